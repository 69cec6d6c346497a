package bpf_test

import (
	"context"
	"fmt"
	"log"
	"os/exec"

	"github.com/usdtkit/usdtkit/bpf"
	"github.com/usdtkit/usdtkit/elf"
)

// Trace every tracepoint of a command from its first instruction, reading
// Bitcoin Core's net:inbound_message strings and message bytes.
func Example() {
	f, err := elf.Open("/usr/local/bin/bitcoind")
	if err != nil {
		log.Fatal(err)
	}
	cmd := exec.Command(f.Path, "-regtest")
	st, err := bpf.StartStopped(cmd)
	if err != nil {
		log.Fatal(err)
	}
	s, err := bpf.Attach(context.Background(), bpf.Options{
		File: f,
		PID:  st.PID(),
		Reads: map[string][]bpf.ArgRead{
			// peer id, address, connection type, message type, size, message
			"net:inbound_message": {{}, {Kind: bpf.ReadString, MaxLen: 68}, {Kind: bpf.ReadString}, {Kind: bpf.ReadString}, {}, {Kind: bpf.ReadBytes, LenArg: 5}},
			// block hash
			"validation:block_connected": {{Kind: bpf.ReadBytes, MaxLen: 32}},
		},
	})
	if err != nil {
		st.Kill()
		log.Fatal(err)
	}
	defer s.Close()
	if err := st.Resume(); err != nil {
		log.Fatal(err)
	}
	go func() {
		cmd.Wait()
		s.Detach() // Events is closed once the ring buffer is drained
	}()
	for ev := range s.Events() {
		fmt.Println(ev.Time, ev.PID, ev.Probe, ev.CallSite, ev.Args)
	}
	for _, tp := range s.Stats().Tracepoints {
		fmt.Println(tp.Probe, tp.Hits, tp.CallSites)
	}
}
