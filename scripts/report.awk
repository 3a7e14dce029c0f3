# Turn the test VM's result records into the report a person reads, and
# count. Every counted case is shown by an "ok"/"not ok" line, one line per
# case except "K of N tests did not report" (K cases), so the closing
# "N passed, N failed" line adds up what is shown above it.
#
#   awk -f report.awk -v mode=check|demo -v progs="P1 P2" \
#       -v qemu_status=S -v vm_timeout=SECS -v prog_timeout=SECS \
#       -v kernel_problem=REGEX [-v kernel_ignore=REGEX] \
#       RESULTS CONSOLE_LOG
#
# RESULTS holds the records written by guest-init.sh (see there). The
# console log is only scanned for kernel messages that report a problem,
# for when the guest could not report them itself (panic, hang).
#
# What is counted:
# - every TAP "ok"/"not ok" line a program prints ("# SKIP" ones as skipped);
# - a program with a plan ("1..N") that reports fewer than N results: each
#   missing result is a failure; one that exits non-zero with no failed
#   test: one failure;
# - a program without a plan: one case, by exit status (0 pass, 4 skip);
# - a program that never ran or never finished: failures, as above;
# - the runner's cases: module_load, module_unload, kernel_clean, and
#   vm_finished when the VM did not reach the end.
# The exit status is 1 when anything failed, 2 when the VM did not finish.

BEGIN {
	nprogs = split(progs, prog_list, " ")
	passed = failed = skipped = 0
	# A printk line with its timestamp, e.g. "[    5.123456] ...".
	kmsg_re = "^\\[ *[0-9]+\\.[0-9]+\\] "
	MAX_DIAG = 60
	MAX_EXCERPT = 120
	CONSOLE_TAIL = 30
}

{ sub(/\r$/, "") }

FILENAME == ARGV[1] { result_record(); next }

# The console: keep its last lines, and the lines from the first kernel
# report of a problem on (a WARNING, an Oops, a panic, ...).
{
	gsub(/\033\[[0-9;?]*[A-Za-z]/, "")
	tail_buf[++nconsole % CONSOLE_TAIL] = $0
	if (nexcerpt > 0 && nexcerpt < MAX_EXCERPT)
		excerpt[++nexcerpt] = $0
	else if (nexcerpt == 0 && $0 ~ kmsg_re && $0 ~ kernel_problem &&
		 (kernel_ignore == "" || $0 !~ kernel_ignore))
		excerpt[++nexcerpt] = $0
}

# Show the console where it matters: from the first kernel problem, or
# else its last lines.
function console_excerpt(    i, first) {
	if (nexcerpt) {
		print "    console, from the first kernel problem:"
		for (i = 1; i <= nexcerpt; i++)
			print "    " excerpt[i]
		return
	}
	first = nconsole - CONSOLE_TAIL + 1
	print "    last lines of the console:"
	for (i = (first < 1 ? 1 : first); i <= nconsole; i++)
		print "    " tail_buf[i % CONSOLE_TAIL]
}

# $0 without its first n space-separated fields.
function after(n,    s, i) {
	s = $0
	for (i = 0; i < n; i++)
		sub(/^[^ ]* ?/, "", s)
	return s
}

function result_record(    type) {
	type = $1
	if (type == "start") {
		started = 1
	} else if (type == "case") {
		runner_case($2 == "ok", $3, after(3))
	} else if (type == "run") {
		prog_start($2)
	} else if (type == "out") {
		prog_line($2, after(2))
	} else if (type == "exit") {
		prog_exit($2, $3 + 0, $4 + 0)
	} else if (type == "dmesg") {
		dmesg[++ndmesg] = after(1)
	} else if (type == "end") {
		ended = 1
	}
}

function pass(line) { passed++; print line }
function skip(line) { skipped++; print line }
function fail(line) { failed++; print line }

function runner_case(ok, name, why,    i) {
	runner[name] = ok
	if (name == "module_load")
		module_loaded = ok
	if (ok) {
		pass("[vm] ok " name (why == "" ? "" : " (" why ")"))
		return
	}
	if (name == "kernel_clean")
		for (i = 1; i <= ndmesg; i++)
			print "    " dmesg[i]
	fail("[vm] not ok " name (why == "" ? "" : ": " why))
}

# The last MAX_DIAG lines a program printed since its last test started;
# shown when that test (or the program) fails.
function diag_add(p, line) {
	ndiag[p]++
	diag[p, ndiag[p] % MAX_DIAG] = line
}

function diag_flush(p,    i) {
	i = ndiag[p] - MAX_DIAG + 1
	for (i = (i < 1 ? 1 : i); i <= ndiag[p]; i++)
		print "    " diag[p, i % MAX_DIAG]
	ndiag[p] = 0
}

function prog_start(p) {
	if (mode == "demo")
		print ""
	ran[p] = 1
	ndiag[p] = 0
	seen[p] = nfail[p] = 0
}

function prog_line(p, line,    name) {
	if (mode == "demo") {
		print line
		return
	}
	if (line ~ /^1\.\.[0-9]+/) {
		plan[p] = substr(line, 4) + 0
		if (line ~ /# *SKIP/)
			plan_skip[p] = line
		return
	}
	if (line ~ /^# +RUN +/) {
		ndiag[p] = 0
		name = line
		sub(/^# +RUN +/, "", name)
		sub(/ \.\.\.$/, "", name)
		last_test[p] = name
		diag_add(p, line)
		return
	}
	if (line ~ /^(not )?ok [0-9]+/) {
		seen[p]++
		# The 6.1 harness prints skips as "ok N # SKIP why": add the name.
		if (match(line, /^ok [0-9]+ # /) && last_test[p] != "")
			line = substr(line, 1, RLENGTH - 3) " " last_test[p] " " substr(line, RLENGTH - 1)
		if (line ~ /^not ok/) {
			nfail[p]++
			diag_flush(p)
			fail("[" p "] " line)
		} else if (line ~ /# *SKIP/) {
			skip("[" p "] " line)
		} else {
			pass("[" p "] " line)
		}
		ndiag[p] = 0
		return
	}
	diag_add(p, line)
}

function exit_reason(status, secs) {
	if (status >= 128 && secs >= prog_timeout)
		return "timed out after " secs " s"
	if (status >= 128)
		return "killed by signal " (status - 128)
	return "exit status " status
}

function prog_exit(p, status, secs,    why, missing) {
	finished[p] = 1
	why = exit_reason(status, secs)
	if (mode == "demo")
		print ""
	if (mode != "demo" && (p in plan)) {
		if (plan[p] == 0 && (p in plan_skip)) {
			skip("[" p "] ok 1 " p " " substr(plan_skip[p], index(plan_skip[p], "#")))
			return
		}
		missing = plan[p] - seen[p]
		if (missing > 0) {
			diag_flush(p)
			failed += missing
			print "[" p "] not ok - " missing " of " plan[p] " tests did not report (" why ")"
		} else if (status != 0 && nfail[p] == 0) {
			diag_flush(p)
			fail("[" p "] not ok - " p ": " why ", though no test failed")
		}
		return
	}
	if (status == 0) {
		pass("[" p "] ok " p)
	} else if (status == 4) {
		skip("[" p "] ok " p " # SKIP (exit status 4)")
	} else {
		diag_flush(p)
		fail("[" p "] not ok " p ": " why)
	}
}

# Why the VM stopped before "end".
function vm_stop_reason() {
	if (qemu_status == 124 || qemu_status == 137)
		return "the VM hung: QEMU was killed after " vm_timeout " s"
	if (nexcerpt)
		return "the kernel crashed"
	if (!started)
		return "the VM did not start (QEMU exit status " qemu_status ")"
	return "the VM stopped early (QEMU exit status " qemu_status ")"
}

END {
	if (!ended)
		stop = vm_stop_reason()
	for (i = 1; i <= nprogs; i++) {
		p = prog_list[i]
		if (p in finished)
			continue
		if (p in ran) {
			diag_flush(p)
			missing = (p in plan) ? plan[p] - seen[p] : 1
			if (missing < 1)
				missing = 1
			failed += missing
			print "[" p "] not ok - did not finish (" stop ")"
		} else if (started && !module_loaded && ("module_load" in runner)) {
			fail("[" p "] not ok - not run: the module did not load")
		} else {
			fail("[" p "] not ok - not run (" stop ")")
		}
	}
	if (!ended) {
		console_excerpt()
		fail("[vm] not ok vm_finished: " stop)
	} else if (nexcerpt) {
		# the whole report (KASAN, lockdep, ...), not only its matching lines
		console_excerpt()
		if (runner["kernel_clean"])
			fail("[vm] not ok console_clean: the console shows a kernel problem")
	}
	line = passed " passed, " failed " failed"
	if (skipped)
		line = line ", " skipped " skipped"
	print line
	exit (!ended ? 2 : failed > 0)
}
