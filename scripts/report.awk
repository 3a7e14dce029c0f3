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
#   missing result is a failure (at least one when it did not finish); one
#   that exits non-zero with no failed test: one failure;
# - a program without a plan: one case, by exit status (0 pass, 4 skip);
# - a program that never ran: one failure;
# - the runner's cases: module_load, module_unload, kernel_clean, and
#   vm_finished when the VM did not reach the end, console_clean when the
#   console shows a kernel problem that kernel_clean did not.
# The exit status is 1 when anything failed, 2 when the VM did not finish.

BEGIN {
	nprogs = split(progs, prog_list, " ")
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
	if (nexcerpt || ($0 ~ kmsg_re && $0 ~ kernel_problem &&
			 (kernel_ignore == "" || $0 !~ kernel_ignore)))
		if (nexcerpt < MAX_EXCERPT)
			excerpt[++nexcerpt] = $0
}

# Show the console where it matters: from the first kernel problem, or
# else its last lines.
function console_excerpt(    i) {
	if (nexcerpt) {
		print "    console, from the first kernel problem:"
		for (i = 1; i <= nexcerpt; i++)
			print "    " excerpt[i]
		return
	}
	print "    last lines of the console:"
	for (i = (nconsole > CONSOLE_TAIL ? nconsole - CONSOLE_TAIL + 1 : 1); i <= nconsole; i++)
		print "    " tail_buf[i % CONSOLE_TAIL]
}

# $0 without its first n space-separated fields.
function after(n,    s) {
	s = $0
	while (n-- > 0)
		sub(/^[^ ]* ?/, "", s)
	return s
}

function result_record() {
	if ($1 == "start") {
		started = 1
	} else if ($1 == "case") {
		runner_case($2 == "ok", $3, after(3))
	} else if ($1 == "run") {
		ran[$2] = 1
		if (mode == "demo")
			print ""
	} else if ($1 == "out")
		prog_line($2, after(2))
	else if ($1 == "exit")
		prog_exit($2, exit_reason($3 + 0, $4 + 0), $3 + 0)
	else if ($1 == "dmesg")
		dmesg[++ndmesg] = after(1)
	else if ($1 == "end")
		ended = 1
}

# Count one case (or n failures) and show its line.
function count(verdict, line, n) {
	counts[verdict] += (n ? n : 1)
	print line
}

function runner_case(ok, name, why,    i) {
	runner[name] = ok
	if (ok) {
		count("passed", "[vm] ok " name (why == "" ? "" : " (" why ")"))
		return
	}
	if (name == "kernel_clean")
		for (i = 1; i <= ndmesg; i++)
			print "    " dmesg[i]
	count("failed", "[vm] not ok " name (why == "" ? "" : ": " why))
}

# The last MAX_DIAG lines a program printed since its last test started;
# shown when that test (or the program) fails.
function diag_add(p, line) {
	diag[p, ++ndiag[p] % MAX_DIAG] = line
}

function diag_flush(p,    i) {
	for (i = (ndiag[p] > MAX_DIAG ? ndiag[p] - MAX_DIAG + 1 : 1); i <= ndiag[p]; i++)
		print "    " diag[p, i % MAX_DIAG]
	ndiag[p] = 0
}

function prog_line(p, line,    name) {
	if (mode == "demo") {
		print line
	} else if (line ~ /^1\.\.[0-9]+/) {
		plan[p] = substr(line, 4) + 0
		if (line ~ /# *SKIP/)
			plan_skip[p] = substr(line, index(line, "#"))
	} else if (line ~ /^(not )?ok [0-9]+/) {
		tap_result(p, line)
	} else {
		if (line ~ /^# +RUN +/) {
			ndiag[p] = 0
			name = line
			sub(/^# +RUN +/, "", name)
			sub(/ \.\.\.$/, "", name)
			last_test[p] = name
		}
		diag_add(p, line)
	}
}

function tap_result(p, line) {
	seen[p]++
	# The 6.1 harness prints skips as "ok N # SKIP why": add the name.
	if (match(line, /^ok [0-9]+ # /) && last_test[p] != "")
		line = substr(line, 1, RLENGTH - 3) " " last_test[p] " " substr(line, RLENGTH - 1)
	if (line ~ /^not ok/) {
		nfail[p]++
		diag_flush(p)
		count("failed", "[" p "] " line)
	} else {
		count(line ~ /# *SKIP/ ? "skipped" : "passed", "[" p "] " line)
	}
	ndiag[p] = 0
}

function exit_reason(status, secs) {
	if (status >= 128 && secs >= prog_timeout)
		return "timed out after " secs " s"
	if (status >= 128)
		return "killed by signal " (status - 128)
	return "exit status " status
}

# PROG ended (status >= 0) or did not finish (status < 0), for the reason
# WHY: count what it did not report.
function prog_exit(p, why, status,    missing) {
	finished[p] = 1
	if (mode == "demo") {
		print ""
	} else if (p in plan_skip && plan[p] == 0) {
		count("skipped", "[" p "] ok 1 " p " " plan_skip[p])
		return
	}
	missing = (p in plan) ? plan[p] - seen[p] : (status < 0)
	if (status < 0 && missing < 1)
		missing = 1
	if (missing > 0) {
		diag_flush(p)
		count("failed", "[" p "] not ok - " \
		      (status < 0 ? "did not finish (" why ")" \
		       : missing " of " plan[p] " tests did not report (" why ")"), missing)
	} else if (p in plan) {
		if (status != 0 && nfail[p] == 0) {
			diag_flush(p)
			count("failed", "[" p "] not ok - " p ": " why ", though no test failed")
		}
	} else if (status == 0) {
		count("passed", "[" p "] ok " p)
	} else if (status == 4) {
		count("skipped", "[" p "] ok " p " # SKIP (exit status 4)")
	} else {
		diag_flush(p)
		count("failed", "[" p "] not ok " p ": " why)
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
		if (p in ran)
			prog_exit(p, stop, -1)
		else if (started && ("module_load" in runner) && !runner["module_load"])
			count("failed", "[" p "] not ok - not run: the module did not load")
		else
			count("failed", "[" p "] not ok - not run (" stop ")")
	}
	if (!ended) {
		console_excerpt()
		count("failed", "[vm] not ok vm_finished: " stop)
	} else if (nexcerpt) {
		# the whole report (KASAN, lockdep, ...), not only its matching lines
		console_excerpt()
		if (runner["kernel_clean"])
			count("failed", "[vm] not ok console_clean: the console shows a kernel problem")
	}
	line = counts["passed"] + 0 " passed, " counts["failed"] + 0 " failed"
	if (counts["skipped"])
		line = line ", " counts["skipped"] " skipped"
	print line
	exit (!ended ? 2 : counts["failed"] > 0)
}
