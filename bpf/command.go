package bpf

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"syscall"
)

// Stopped is a command that was started and stopped before its first
// instruction, like bpftrace -c: attach with Options.PID set to
// Cmd.Process.Pid, then call Resume. Shared libraries are not mapped yet
// when it stops; uprobes in them take effect when the loader maps them.
type Stopped struct {
	Cmd    *exec.Cmd
	resume chan request
	done   bool
}

// request is a Resume (kill false) or a Kill for the goroutine that
// holds the child.
type request struct {
	kill  bool
	reply chan error
}

// StartStopped starts cmd stopped right after its execve, before the
// program (or its dynamic loader) runs one instruction. The child is
// killed if this process exits before Resume. The caller waits for it
// with cmd.Wait as usual, after Resume.
//
// It holds the child with ptrace (PTRACE_TRACEME), so it fails when this
// process may not ptrace its children (Yama ptrace_scope 3, seccomp), and
// with [ErrUnsupported] where there is no ptrace (qemu-user).
func StartStopped(cmd *exec.Cmd) (*Stopped, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Ptrace = true
	st := &Stopped{Cmd: cmd, resume: make(chan request)}
	started := make(chan error)
	// ptrace requests must come from the thread that started the child:
	// one locked goroutine starts it, waits for the stop and later
	// detaches.
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			if errors.Is(err, syscall.ENOSYS) {
				err = noSyscall("ptrace")
			}
			started <- err
			return
		}
		pid := cmd.Process.Pid
		var ws syscall.WaitStatus
		for {
			_, err := syscall.Wait4(pid, &ws, syscall.WALL, nil)
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			if err != nil {
				started <- fmt.Errorf("wait for %s to stop: %w", cmd.Path, err)
				return
			}
			break
		}
		if !ws.Stopped() {
			started <- fmt.Errorf("start %s: it ended before it stopped (%v)", cmd.Path, exitStatus(ws))
			return
		}
		// Kill the child with us, should we die before resuming it.
		if err := syscall.PtraceSetOptions(pid, 0x100000 /* PTRACE_O_EXITKILL */); err != nil {
			syscall.Kill(pid, syscall.SIGKILL)
			started <- fmt.Errorf("hold %s: %w", cmd.Path, err)
			return
		}
		started <- nil
		req := <-st.resume
		if req.kill {
			req.reply <- cmd.Process.Kill()
			return
		}
		req.reply <- syscall.PtraceDetach(pid)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return st, nil
}

func exitStatus(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return "signal " + ws.Signal().String()
	}
	return fmt.Sprintf("exit status %d", ws.ExitStatus())
}

// PID is the stopped process's id.
func (s *Stopped) PID() int { return s.Cmd.Process.Pid }

// Resume lets the command run. Resume or Kill may be called once.
func (s *Stopped) Resume() error {
	if err := s.send(false); err != nil {
		return fmt.Errorf("resume %s: %w", s.Cmd.Path, err)
	}
	return nil
}

// Kill kills the command without letting it run; the caller still waits
// for it with Cmd.Wait.
func (s *Stopped) Kill() error {
	if err := s.send(true); err != nil {
		return fmt.Errorf("kill %s: %w", s.Cmd.Path, err)
	}
	return nil
}

func (s *Stopped) send(kill bool) error {
	if s.done {
		return errors.New("already resumed or killed")
	}
	s.done = true
	req := request{kill: kill, reply: make(chan error)}
	s.resume <- req
	return <-req.reply
}
