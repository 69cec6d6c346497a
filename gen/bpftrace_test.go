package gen

import "testing"

func TestSafePath(t *testing.T) {
	for path, want := range map[string]bool{
		"":                       false,
		"/usr/bin/bitcoind":      true,
		"build/bin/bitcoind":     true,
		"a-b_c.d+e@f~g,h=i":      true,
		"my bin":                 false,
		"bin:x":                  false,
		"bin\"":                  false,
		"bin\n":                  false,
		"/opt/bitcoin/bitcoind*": false,
		"/tmp/é":                 false,
	} {
		if got := safePath(path); got != want {
			t.Errorf("safePath(%q) = %v, want %v", path, got, want)
		}
	}
}
