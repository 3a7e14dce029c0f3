module afcustom

go 1.19
