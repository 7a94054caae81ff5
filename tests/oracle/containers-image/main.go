// Command containers-image-oracle answers, one JSON line per request, which credential
// containers/image (go.podman.io/image/v5, the library CRI-O pulls with) takes from an auth file
// for an image. The docker transport asks pkg/docker/config.GetCredentialsForRef with the
// SystemContext whose AuthFilePath is CRI-O's global_auth_file; this program does the same, with
// every other host source of credentials or configuration pointed at empty private files.
// See ../README.md for the protocol.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sirupsen/logrus"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/pkg/docker/config"
	"go.podman.io/image/v5/types"
)

type request struct {
	ID       json.RawMessage `json:"id"`
	Op       string          `json:"op"` // "" or "image", "key", "panic" (proves the recovery path)
	Image    *string         `json:"image"`
	Key      *string         `json:"key"`
	AuthFile *string         `json:"authfile"`
}

type credential struct {
	Username      string `json:"username"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
}

// outcome is what one lookup gives: an error, or a credential (nil: anonymous).
type outcome struct {
	Error      *string     `json:"error"`
	Credential *credential `json:"credential"`
}

type response struct {
	ID         json.RawMessage `json:"id"`
	Name       string          `json:"name,omitempty"`
	Error      *string         `json:"error"`
	Credential *credential     `json:"credential"`
	Ambiguous  bool            `json:"ambiguous"`
	Outcomes   []outcome       `json:"outcomes"`
}

type oracle struct {
	dir              string
	registriesConf   string
	registriesConfD  string
	authFileSequence int
}

func main() {
	logrus.SetOutput(io.Discard)
	o, err := newOracle()
	if err != nil {
		fmt.Fprintln(os.Stderr, "containers-image-oracle:", err)
		os.Exit(2)
	}
	defer os.RemoveAll(o.dir)
	serve(os.Stdin, os.Stdout, o.answer)
}

func newOracle() (*oracle, error) {
	dir, err := os.MkdirTemp("", "containers-image-oracle-")
	if err != nil {
		return nil, err
	}
	o := &oracle{dir: dir, registriesConf: filepath.Join(dir, "registries.conf"), registriesConfD: filepath.Join(dir, "registries.conf.d")}
	home := filepath.Join(dir, "home")
	empty := filepath.Join(dir, "empty-path")
	for _, d := range []string{home, empty, o.registriesConfD, filepath.Join(dir, "run")} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(o.registriesConf, nil, 0o600); err != nil {
		return nil, err
	}
	// Nothing from the host: no home or XDG files, no registries.conf from the environment, and
	// an empty PATH so a credHelpers entry cannot run a host docker-credential-* program (such an
	// entry then answers with the error of a helper that is not installed).
	for k, v := range map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, ".config"), "XDG_RUNTIME_DIR": filepath.Join(dir, "run"),
		"PATH": empty,
	} {
		os.Setenv(k, v)
	}
	for _, k := range []string{"DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "CONTAINERS_REGISTRIES_CONF", "CONTAINERS_REGISTRIES_CONF_OVERRIDE"} {
		os.Unsetenv(k)
	}
	return o, nil
}

func (o *oracle) systemContext(authFile string) *types.SystemContext {
	return &types.SystemContext{
		AuthFilePath:                authFile,
		SystemRegistriesConfPath:    o.registriesConf,
		SystemRegistriesConfDirPath: o.registriesConfD,
	}
}

func (o *oracle) answer(line []byte) (out any) {
	resp := &response{ID: json.RawMessage("null"), Outcomes: []outcome{}}
	defer func() {
		if r := recover(); r != nil {
			msg := fmt.Sprintf("panic: %v", r)
			resp.Error, resp.Credential, resp.Ambiguous = &msg, nil, false
			resp.Outcomes = []outcome{{Error: &msg}}
			out = resp
		}
	}()
	var req request
	if err := decodeRequest(line, &req, &resp.ID); err != nil {
		return resp.fail("bad request: " + err.Error())
	}
	if req.Op == "panic" {
		panic("requested by the client")
	}
	if req.AuthFile == nil {
		return resp.fail(`bad request: "authfile" is required`)
	}
	raw, err := base64.StdEncoding.DecodeString(*req.AuthFile)
	if err != nil {
		return resp.fail("bad request: authfile is not base64: " + err.Error())
	}

	var name string
	var lookup func(sys *types.SystemContext) (types.DockerAuthConfig, error)
	switch req.Op {
	case "", "image":
		if req.Image == nil {
			return resp.fail(`bad request: "image" is required`)
		}
		// As the docker transport parses image names (docker.io normalisation included).
		ref, err := reference.ParseNormalizedNamed(*req.Image)
		if err != nil {
			return resp.fail(err.Error())
		}
		name = ref.Name()
		lookup = func(sys *types.SystemContext) (types.DockerAuthConfig, error) {
			return config.GetCredentialsForRef(sys, ref)
		}
	case "key":
		if req.Key == nil {
			return resp.fail(`bad request: "key" is required`)
		}
		name = *req.Key
		lookup = func(sys *types.SystemContext) (types.DockerAuthConfig, error) {
			return config.GetCredentials(sys, name)
		}
	default:
		return resp.fail(fmt.Sprintf("bad request: unknown op %q", req.Op))
	}
	resp.Name = name

	outcomes, err := o.outcomes(raw, name, lookup)
	if err != nil {
		return resp.fail(err.Error())
	}
	resp.Outcomes = outcomes
	resp.Error, resp.Credential = outcomes[0].Error, outcomes[0].Credential
	resp.Ambiguous = len(outcomes) > 1
	return resp
}

func (r *response) fail(msg string) *response {
	r.Error, r.Credential = &msg, nil
	r.Outcomes = []outcome{{Error: &msg}}
	return r
}

// run writes one auth file and asks the library about it.
func (o *oracle) run(raw []byte, lookup func(*types.SystemContext) (types.DockerAuthConfig, error)) (outcome, error) {
	o.authFileSequence++
	path := filepath.Join(o.dir, fmt.Sprintf("auth-%d.json", o.authFileSequence))
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		return outcome{}, fmt.Errorf("oracle: %v", err)
	}
	defer os.Remove(path)
	creds, err := lookup(o.systemContext(path))
	if err != nil {
		msg := err.Error()
		// The temporary file name is noise for a comparison; name it by its role instead.
		msg = strings.ReplaceAll(msg, path, "<authfile>")
		return outcome{Error: &msg}, nil
	}
	if creds == (types.DockerAuthConfig{}) {
		return outcome{}, nil
	}
	return outcome{Credential: &credential{Username: creds.Username, Password: creds.Password, IdentityToken: creds.IdentityToken}}, nil
}

// parsedAuthFile mirrors the types the library unmarshals an auth file into (same JSON field
// names and Go types, so encoding/json's case-insensitive field matching, map merging and type
// errors apply alike); a variant written back from it reads the same to the library.
type parsedAuthFile struct {
	Auths       map[string]authEntry `json:"auths"`
	CredHelpers map[string]string    `json:"credHelpers,omitempty"`
}

type authEntry struct {
	Auth          string `json:"auth,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
}

// outcomes returns every distinct outcome the library can give for name, sorted.
//
// The lookup is deterministic except in one place: when no entry is keyed exactly by the name or
// one of its parent namespaces (or the registry), findCredentialsInFile ranges over the auths map
// and takes the first key whose URL-stripped, docker.io-normalised host equals the registry, so
// with several such keys the winner depends on Go's map iteration order. For that case each
// candidate is evaluated by the library on a copy of the file holding only that candidate among
// the colliding keys; the answer for the original file must be one of them (checked).
func (o *oracle) outcomes(raw []byte, name string, lookup func(*types.SystemContext) (types.DockerAuthConfig, error)) ([]outcome, error) {
	actual, err := o.run(raw, lookup)
	if err != nil {
		return nil, err
	}
	colliding := fallbackCandidates(raw, name)
	if len(colliding) < 2 {
		return []outcome{actual}, nil
	}
	var file parsedAuthFile
	if err := json.Unmarshal(raw, &file); err != nil {
		return nil, fmt.Errorf("oracle: %v", err)
	}
	distinct := map[string]outcome{}
	for _, keep := range colliding {
		variant := parsedAuthFile{Auths: map[string]authEntry{}, CredHelpers: file.CredHelpers}
		for k, v := range file.Auths {
			if k == keep || !contains(colliding, k) {
				variant.Auths[k] = v
			}
		}
		b, err := json.Marshal(variant)
		if err != nil {
			return nil, fmt.Errorf("oracle: %v", err)
		}
		oc, err := o.run(b, lookup)
		if err != nil {
			return nil, err
		}
		distinct[outcomeKey(oc)] = oc
	}
	if _, ok := distinct[outcomeKey(actual)]; !ok {
		return nil, errors.New("oracle self-check failed: the library's answer for the whole file is not among the per-key answers")
	}
	keys := make([]string, 0, len(distinct))
	for k := range distinct {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]outcome, 0, len(keys))
	for _, k := range keys {
		out = append(out, distinct[k])
	}
	return out, nil
}

// fallbackCandidates returns the auths keys that compete in the library's map-order fallback for
// name, or nil when the lookup cannot reach that fallback (the file does not parse, a credHelpers
// entry or an exactly matching key decides first). The key normalisation restates the library's
// unexported normalizeAuthFileKey/normalizeRegistry; the per-candidate evaluation is the library's.
func fallbackCandidates(raw []byte, name string) []string {
	var file parsedAuthFile
	if json.Unmarshal(raw, &file) != nil {
		return nil
	}
	registry, _, _ := strings.Cut(name, "/")
	if _, ok := file.CredHelpers[registry]; ok {
		return nil
	}
	for prefix := name; ; {
		if _, ok := file.Auths[prefix]; ok {
			return nil
		}
		i := strings.LastIndex(prefix, "/")
		if i < 0 {
			break
		}
		prefix = prefix[:i]
	}
	want := normalizeRegistry(registry)
	var out []string
	for k := range file.Auths {
		stripped := strings.TrimPrefix(strings.TrimPrefix(k, "http://"), "https://")
		if stripped != k {
			stripped, _, _ = strings.Cut(stripped, "/")
		}
		if normalizeRegistry(stripped) == want {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func normalizeRegistry(r string) string {
	if r == "registry-1.docker.io" || r == "docker.io" {
		return "index.docker.io"
	}
	return r
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func outcomeKey(oc outcome) string {
	b, _ := json.Marshal(oc)
	return string(b)
}

// decodeRequest parses one request line; when the line is bad it still recovers the id if it can.
func decodeRequest(line []byte, req *request, id *json.RawMessage) error {
	var probe struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(line, &probe) == nil && len(probe.ID) > 0 {
		*id = probe.ID
	}
	if err := json.Unmarshal(line, req); err != nil {
		return err
	}
	if len(req.ID) > 0 {
		*id = req.ID
	}
	return nil
}

// serve answers each stdin line with one stdout line until stdin closes.
func serve(in io.Reader, out io.Writer, answer func([]byte) any) {
	r := bufio.NewReaderSize(in, 1<<20)
	w := bufio.NewWriter(out)
	for {
		line, err := r.ReadBytes('\n')
		if len(strings.TrimSpace(string(line))) > 0 {
			b, merr := json.Marshal(answer(line))
			if merr != nil {
				b = []byte(`{"id":null,"error":"oracle: cannot encode response","credential":null}`)
			}
			w.Write(b)
			w.WriteByte('\n')
			w.Flush()
		}
		if err != nil {
			return
		}
	}
}
