package e2e

// PID is the operating-system process ID of the server, for tests that read
// /proc/PID (memory, open files) while it runs.
func (p *Proc) PID() int { return p.cmd.Process.Pid }
