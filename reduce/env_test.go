package reduce

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestEnvImplPicksTheImplementation runs this test binary again with
// SIMDBN_IMPL set to each implementation (and to an unknown name) and
// checks which one the fresh process uses.
func TestEnvImplPicksTheImplementation(t *testing.T) {
	if os.Getenv("SIMDBN_ENV_CHILD") != "" {
		os.Stdout.WriteString("impl=" + Impl() + "\n")
		return
	}
	cases := map[string]string{"nope": Impls()[0]}
	for _, name := range Impls() {
		cases[name] = name
	}
	for env, want := range cases {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEnvImplPicksTheImplementation$")
		cmd.Env = append(os.Environ(), "SIMDBN_ENV_CHILD=1", EnvImpl+"="+env)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s=%s: %v\n%s", EnvImpl, env, err, out)
		}
		if !strings.Contains(string(out), "impl="+want+"\n") {
			t.Errorf("%s=%s: the process uses %q, want %s", EnvImpl, env, out, want)
		}
	}
}
