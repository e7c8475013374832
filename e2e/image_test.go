//go:build image

// The container image test: run by `make test-image` (go test -tags image),
// which builds the image first. ROUTEAPI_IMAGE names it; PODMAN and
// PODMAN_FLAGS say how to run podman; CONTAINERS_CONF is passed through.

package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/routeapi/routeapi/internal/testkit/nextauthmint"
)

// podman runs podman with the configured flags and returns its output.
func podman(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin := os.Getenv("PODMAN")
	if bin == "" {
		bin = "podman"
	}
	all := append(strings.Fields(os.Getenv("PODMAN_FLAGS")), args...)
	out, err := exec.Command(bin, all...).CombinedOutput()
	return withoutSystemdNoise(string(out)), err
}

// withoutSystemdNoise drops podman's complaints that it cannot schedule the
// health check timer without systemd (these machines have none; `podman
// healthcheck run` still runs the check).
func withoutSystemdNoise(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if !strings.Contains(l, "systemd") {
			keep = append(keep, l)
		}
	}
	return strings.TrimSpace(strings.Join(keep, "\n"))
}

func mustPodman(t *testing.T, args ...string) string {
	t.Helper()
	out, err := podman(t, args...)
	if err != nil {
		t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// TestImage runs the image as it is meant to run (read-only root
// filesystem, the spool on a named volume, as its non-root user, no
// capabilities, host loopback only): it serves a request from a session
// minted by next-auth and the event arrives in the real Inngest dev server
// on the host; its health check passes; it has no shell; it stops cleanly on
// SIGTERM; the spool it wrote stays on the volume.
func TestImage(t *testing.T) {
	image := os.Getenv("ROUTEAPI_IMAGE")
	if image == "" {
		t.Fatal("ROUTEAPI_IMAGE is not set: run `make test-image`, which builds the image")
	}
	inngest := startInngest(t)
	event := "app/route.requested" // the image's default settings
	secret := "image-secret-" + randomSuffix()
	name := "routeapi-test-" + randomSuffix()
	volume := name + "-spool"
	// A fixed port, not 127.0.0.1:0: the image's HEALTHCHECK (routeapi
	// healthcheck) dials ROUTEAPI_ADDR itself, so the container must be told
	// the real port. If another process takes it first, the container fails
	// to bind and the test fails loudly (it never talks to someone else's
	// server: /readyz must answer 200 and the checks below inspect this
	// container).
	addr := freeAddr(t)

	mustPodman(t, "volume", "create", volume)
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := podman(t, "logs", name)
			t.Logf("container log:\n%s", out)
		}
		_, _ = podman(t, "rm", "--force", "--time", "5", name)
		_, _ = podman(t, "volume", "rm", "--force", volume)
	})
	// --network host with a loopback address: the container reaches the
	// dev server on the host's 127.0.0.1 and listens there only.
	mustPodman(t, "run", "--detach", "--name", name,
		"--read-only", "--cap-drop=ALL", "--security-opt=no-new-privileges",
		"--network", "host",
		"--volume", volume+":/var/lib/routeapi",
		"--env", "ROUTEAPI_ADDR="+addr,
		"--env", "NEXTAUTH_SECRET="+secret,
		"--env", "INNGEST_DEV=1",
		"--env", "INNGEST_BASE_URL="+inngest.URL,
		image)
	url := "http://" + addr
	waitFor(t, 30*time.Second, "the container's /readyz", func() bool {
		resp, err := probeClient.Get(url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	// As configured: non-root, read-only root, the health check, the volume.
	var inspect []struct {
		Config struct {
			User        string
			Healthcheck struct{ Test []string }
		}
		HostConfig struct{ ReadonlyRootfs bool }
		State      struct{ Pid int }
		Mounts     []struct{ Destination, Type string }
	}
	if err := json.Unmarshal([]byte(mustPodman(t, "container", "inspect", name)), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("podman inspect: %v", err)
	}
	in := inspect[0]
	if in.Config.User != "65532:65532" || !in.HostConfig.ReadonlyRootfs {
		t.Errorf("user %q, read-only root %v; want 65532:65532 and true", in.Config.User, in.HostConfig.ReadonlyRootfs)
	}
	if got := strings.Join(in.Config.Healthcheck.Test, " "); !strings.Contains(got, "/usr/local/bin/routeapi healthcheck") {
		t.Errorf("health check %q, want routeapi healthcheck", got)
	}
	// The process itself runs as 65532 (read from the host's /proc).
	status, err := os.ReadFile("/proc/" + strconv.Itoa(in.State.Pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, "Uid:") && strings.Fields(l)[1] != "65532" {
			t.Errorf("routeapi runs as %s, want uid 65532", l)
		}
	}

	// A request with a real next-auth session; the event arrives in Inngest.
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: secret, Claims: ada, MaxAge: 3600})[0]
	r := &routeAPI{URL: url}
	resp := r.post(t, `{"data":{"from":"the container"}}`, cookieHeader(v))
	if resp.Status != http.StatusOK {
		t.Fatalf("POST /api/route: %d %s", resp.Status, resp.Body)
	}
	var body routeResponse
	resp.decode(t, &body)
	var found bool
	for _, ev := range inngest.waitEvents(t, event, 1) {
		if ev.ID != body.EventID {
			continue
		}
		found = true
		var d eventData
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatal(err)
		}
		if d.User["id"] != "user_42" || !jsonEqual(t, d.Data, `{"from":"the container"}`) {
			t.Errorf("event data: user %v, data %s", d.User, d.Data)
		}
	}
	if !found {
		t.Errorf("no event %s in the Inngest dev server", body.EventID)
	}

	// The health check: the image's own, and no shell to fall back on.
	if out, err := podman(t, "healthcheck", "run", name); err != nil {
		t.Errorf("podman healthcheck run: %v %s", err, out)
	}
	if out, err := podman(t, "exec", name, "/usr/local/bin/routeapi", "healthcheck"); err != nil || !strings.Contains(out, `"status":"ready"`) {
		t.Errorf("routeapi healthcheck in the container: %v %s", err, out)
	}
	if out, err := podman(t, "exec", name, "/bin/sh", "-c", "true"); err == nil {
		t.Errorf("the image has a shell: %s", out)
	}

	// SIGTERM (podman stop) ends it cleanly, within the grace period.
	mustPodman(t, "stop", "--time", "20", name)
	if code := mustPodman(t, "container", "inspect", "--format", "{{.State.ExitCode}}", name); code != "0" {
		t.Errorf("exit code %s after podman stop, want 0", code)
	}
	// The spool is on the volume, written by the non-root user, and readable
	// by the next container (read-only root again).
	out := mustPodman(t, "run", "--rm", "--read-only", "--network", "none", "--volume", volume+":/var/lib/routeapi", image, "spool", "stats")
	if !strings.Contains(out, "spool: bolt") || !strings.Contains(out, "depth: 0") {
		t.Errorf("spool stats from the volume: %s", out)
	}
}
