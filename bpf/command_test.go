package bpf

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestStartStopped(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	mark := filepath.Join(t.TempDir(), "ran")
	cmd := exec.Command(sh, "-c", "echo ran > "+mark)
	st, err := StartStopped(cmd)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if _, err := os.Stat(mark); err == nil {
		t.Fatal("the command ran before Resume")
	}
	stat, err := os.ReadFile("/proc/" + itoa(st.PID()) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// The third field is the state: t, stopped by a tracer.
	if f := strings.Fields(string(stat)); len(f) < 3 || f[2] != "t" {
		t.Errorf("state %q, want t", f[2])
	}
	if err := st.Resume(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(mark); err != nil {
		t.Errorf("the command did not run after Resume: %v", err)
	}
	if err := st.Resume(); err == nil {
		t.Error("second Resume succeeded")
	}
}

func TestStartStoppedKill(t *testing.T) {
	cmd := exec.Command("/bin/true")
	st, err := StartStopped(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("wait: %v, want killed", err)
	}
}

func TestStartStoppedMissing(t *testing.T) {
	if _, err := StartStopped(exec.Command("/nonexistent/usdtkit")); err == nil {
		t.Error("started a missing command")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
