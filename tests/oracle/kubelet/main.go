// Command kubelet-oracle answers, one JSON line per request, which credentials the kubelet
// (k8s.io/kubernetes v1.36.3) would try, and in which orders, for pulling an image with a set of
// image pull secrets and a node config.json. The decision is made by the kubelet's own
// credentialprovider packages; this program only feeds them and enumerates map-order variation.
// See ../README.md for the protocol.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/go-logr/logr"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/credentialprovider"
	credentialproviderplugin "k8s.io/kubernetes/pkg/credentialprovider/plugin"
	credentialprovidersecrets "k8s.io/kubernetes/pkg/credentialprovider/secrets"
	"k8s.io/kubernetes/pkg/features"
	"k8s.io/kubernetes/pkg/util/parsers"
)

// maxOrders bounds the enumeration; beyond it a request gets an error rather than a slow answer.
const maxOrders = 5040

// fullCheckLimit: when the orders obtained by permuting every relevant entry of every source
// number at most this many, they are also enumerated and must equal the grouped enumeration.
const fullCheckLimit = 5040

type secretIn struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Type      string            `json:"type"`
	Data      map[string]string `json:"data"`
}

type request struct {
	ID         json.RawMessage `json:"id"`
	Op         string          `json:"op"` // "" (lookup) or "panic" (proves the recovery path)
	Image      *string         `json:"image"`
	Secrets    []secretIn      `json:"secrets"`
	NodeConfig *string         `json:"node_config"`
}

type credentialOut struct {
	Source        string `json:"source"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	Auth          string `json:"auth"`
	Email         string `json:"email"`
	ServerAddress string `json:"serveraddress"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

type response struct {
	ID     json.RawMessage   `json:"id"`
	Repo   string            `json:"repo"`
	Error  *string           `json:"error"`
	Orders [][]credentialOut `json:"orders"`
}

// oracle holds the private directories the kubelet's config.json search is pointed at.
type oracle struct {
	rootDir     string // stands for the kubelet root dir (SetPreferredDockercfgPath)
	envProblems []string
}

func main() {
	flag.Parse()
	// Upstream logs skipped entries at error level; answers carry what matters, so drop all logs.
	klog.SetLogger(logr.Discard())

	o, err := newOracle()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubelet-oracle:", err)
		os.Exit(2)
	}
	defer os.RemoveAll(filepath.Dir(o.rootDir))
	serve(os.Stdin, os.Stdout, o.answer)
}

func newOracle() (*oracle, error) {
	// The source of every credential is only kept when this gate is on (its default in 1.36);
	// the oracle relies on it to tell secrets and node entries apart.
	if !utilfeature.DefaultFeatureGate.Enabled(features.KubeletEnsureSecretPulledImages) {
		return nil, errors.New("feature gate KubeletEnsureSecretPulledImages is off; sources cannot be tracked")
	}
	base, err := os.MkdirTemp("", "kubelet-oracle-")
	if err != nil {
		return nil, err
	}
	o := &oracle{rootDir: filepath.Join(base, "root")}
	work := filepath.Join(base, "cwd")
	for _, d := range []string{o.rootDir, work} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return nil, err
		}
	}
	// The node keyring also searches the working directory ("" in its search path); make that an
	// empty private directory.
	if err := os.Chdir(work); err != nil {
		return nil, err
	}
	credentialprovider.SetPreferredDockercfgPath(o.rootDir)
	// The fallbacks after the preferred path ($HOME/.docker, /.docker, and the legacy .dockercfg
	// files) are host files; the client runs us with HOME set to an empty directory, and any such
	// file that exists makes every answer an error rather than a silently polluted one.
	home, _ := os.UserHomeDir()
	for _, p := range []string{
		filepath.Join(home, ".docker", "config.json"), filepath.Join(home, ".dockercfg"),
		"/.docker/config.json", "/.dockercfg",
	} {
		if _, err := os.Stat(p); err == nil {
			o.envProblems = append(o.envProblems, p)
		}
	}
	return o, nil
}

// source is one Add call's worth of entries: a pull secret, or the node's config.json.
type source struct {
	label   string // "secret:<name>" or "node"
	secret  *credentialprovider.SecretCoordinates
	locs    []string // keys of cfg, sorted: the base order
	cfg     credentialprovider.DockerConfig
	keyring int // 0: the pod-secrets keyring, 1: the node keyring
}

// tagged is a location in a source; tags let each Lookup result be traced back to its entry.
type tagged struct{ src, entry int }

func (o *oracle) answer(line []byte) (out any) {
	resp := &response{ID: json.RawMessage("null"), Orders: [][]credentialOut{}}
	defer func() {
		if r := recover(); r != nil {
			resp.Repo, resp.Orders = "", [][]credentialOut{}
			resp.Error = ptr(fmt.Sprintf("panic: %v", r))
			out = resp
		}
	}()
	var req request
	if err := decodeRequest(line, &req, &resp.ID); err != nil {
		resp.Error = ptr("bad request: " + err.Error())
		return resp
	}
	if req.Op == "panic" {
		panic("requested by the client")
	} else if req.Op != "" {
		resp.Error = ptr(fmt.Sprintf("bad request: unknown op %q", req.Op))
		return resp
	}
	secrets, nodeBytes, err := req.decode()
	if err != nil {
		resp.Error = ptr("bad request: " + err.Error())
		return resp
	}
	if len(o.envProblems) > 0 {
		resp.Error = ptr("oracle environment not isolated, host files exist: " + strings.Join(o.envProblems, ", "))
		return resp
	}
	nodeFile := filepath.Join(o.rootDir, "config.json")
	if nodeBytes == nil {
		if err := os.Remove(nodeFile); err != nil && !os.IsNotExist(err) {
			resp.Error = ptr("oracle: " + err.Error())
			return resp
		}
	} else if err := os.WriteFile(nodeFile, nodeBytes, 0o600); err != nil {
		resp.Error = ptr("oracle: " + err.Error())
		return resp
	}

	// What the kubelet does (image_manager.go makeLookupPullCredentialsFunc), with a fresh node
	// keyring each time so its 5-minute cache never serves a previous request's config.json.
	repo, _, _, err := parsers.ParseImageName(*req.Image)
	if err != nil {
		resp.Error = ptr(err.Error())
		return resp
	}
	resp.Repo = repo
	nodeKeyring := credentialprovider.NewDefaultDockerKeyring()
	external := credentialproviderplugin.NewExternalCredentialProviderDockerKeyring("", "", "", "")
	keyring, err := credentialprovidersecrets.MakeDockerKeyring(secrets, credentialprovider.UnionDockerKeyring{nodeKeyring, external})
	if err != nil {
		resp.Error = ptr(err.Error())
		return resp
	}
	actual, _ := keyring.Lookup(repo)

	sources, err := collectSources(secrets)
	if err != nil {
		resp.Error = ptr("oracle: " + err.Error())
		return resp
	}
	orders, err := enumerateOrders(sources, repo)
	if err != nil {
		resp.Error = ptr(err.Error())
		return resp
	}
	realOrder := make([]credentialOut, 0, len(actual))
	for _, c := range actual {
		realOrder = append(realOrder, describe(c, sourceLabel(c.Source)))
	}
	if _, ok := orders[orderKey(realOrder)]; !ok {
		resp.Error = ptr(fmt.Sprintf("oracle self-check failed: the kubelet's own lookup returned an order not enumerated: %s", orderKey(realOrder)))
		return resp
	}
	keys := make([]string, 0, len(orders))
	for k := range orders {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		resp.Orders = append(resp.Orders, orders[k])
	}
	return resp
}

func (r *request) decode() ([]v1.Secret, []byte, error) {
	if r.Image == nil {
		return nil, nil, errors.New(`"image" is required`)
	}
	secrets := make([]v1.Secret, 0, len(r.Secrets))
	for i, s := range r.Secrets {
		sec := v1.Secret{Type: v1.SecretType(s.Type), Data: map[string][]byte{}}
		sec.Name, sec.Namespace = s.Name, s.Namespace
		// A distinct UID per position tells two secrets of the same name apart.
		sec.UID = types.UID("secret-" + strconv.Itoa(i))
		for k, v := range s.Data {
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return nil, nil, fmt.Errorf("secrets[%d].data[%q] is not base64: %v", i, k, err)
			}
			sec.Data[k] = b
		}
		secrets = append(secrets, sec)
	}
	var node []byte
	if r.NodeConfig != nil {
		b, err := base64.StdEncoding.DecodeString(*r.NodeConfig)
		if err != nil {
			return nil, nil, fmt.Errorf("node_config is not base64: %v", err)
		}
		node = b
	}
	return secrets, node, nil
}

// collectSources parses the secrets the way secretsToTrackedDockerConfigs selects and parses
// them (the same type/key conditions and the same upstream types, so the same unmarshalling),
// and reads the node config the way the default node provider does (ReadDockerConfigFile).
// MakeDockerKeyring has already run on the same input, so parse errors were reported by it.
func collectSources(secrets []v1.Secret) ([]source, error) {
	var out []source
	for i := range secrets {
		s := &secrets[i]
		var cfg credentialprovider.DockerConfig
		if b, ok := s.Data[v1.DockerConfigJsonKey]; s.Type == v1.SecretTypeDockerConfigJson && ok && len(b) > 0 {
			var j credentialprovider.DockerConfigJSON
			if err := json.Unmarshal(b, &j); err != nil {
				return nil, err
			}
			cfg = j.Auths
		} else if b, ok := s.Data[v1.DockerConfigKey]; s.Type == v1.SecretTypeDockercfg && ok && len(b) > 0 {
			if err := json.Unmarshal(b, &cfg); err != nil {
				return nil, err
			}
		} else {
			continue
		}
		coords := &credentialprovider.SecretCoordinates{UID: string(s.UID), Namespace: s.Namespace, Name: s.Name}
		out = append(out, newSource("secret:"+s.Name, coords, cfg, 0))
	}
	node, err := credentialprovider.ReadDockerConfigFile()
	if err != nil {
		node = credentialprovider.DockerConfig{}
	}
	out = append(out, newSource("node", nil, node, 1))
	return out, nil
}

func newSource(label string, coords *credentialprovider.SecretCoordinates, cfg credentialprovider.DockerConfig, keyring int) source {
	locs := make([]string, 0, len(cfg))
	for loc := range cfg {
		locs = append(locs, loc)
	}
	sort.Strings(locs)
	return source{label: label, secret: coords, locs: locs, cfg: cfg, keyring: keyring}
}

// build assembles the two keyrings the kubelet unions (pod secrets first, then node, then the
// external credential providers, of which there are none) with each source's entries added in
// the given order. order[i] lists indexes into sources[i].locs; entries it leaves out follow in
// base order.
//
// Why one Add per entry is the same as the kubelet's single Add per source under some map
// iteration order: BasicDockerKeyring.Add handles each map entry independently (derive the index
// key, append the credential to creds[key], append key to index) and only at the end dedupes and
// reverse-sorts the index, which yields the same index whatever was appended and in what order.
// So a sequence of one-entry Adds leaves exactly the state one Add leaves when the map yields the
// entries in that sequence, and every sequence is a possible map iteration order.
func build(sources []source, order [][]int) credentialprovider.DockerKeyring {
	rings := [2]*credentialprovider.BasicDockerKeyring{{}, {}}
	for i, s := range sources {
		seen := make([]bool, len(s.locs))
		seq := make([]int, 0, len(s.locs))
		for _, e := range order[i] {
			seen[e] = true
			seq = append(seq, e)
		}
		for e := range s.locs {
			if !seen[e] {
				seq = append(seq, e)
			}
		}
		for _, e := range seq {
			loc := s.locs[e]
			// The tag rides in the source UID; Lookup never reads sources.
			src := &credentialprovider.CredentialSource{Secret: &credentialprovider.SecretCoordinates{
				UID: fmt.Sprintf("%d/%d", i, e),
			}}
			rings[s.keyring].Add(src, credentialprovider.DockerConfig{loc: s.cfg[loc]})
		}
	}
	external := credentialproviderplugin.NewExternalCredentialProviderDockerKeyring("", "", "", "")
	return credentialprovider.UnionDockerKeyring{rings[0], credentialprovider.UnionDockerKeyring{rings[1], external}}
}

func untag(c credentialprovider.TrackedAuthConfig) (tagged, error) {
	var t tagged
	if c.Source == nil || c.Source.Secret == nil {
		return t, errors.New("credential without tag")
	}
	if _, err := fmt.Sscanf(c.Source.Secret.UID, "%d/%d", &t.src, &t.entry); err != nil {
		return t, err
	}
	return t, nil
}

// enumerateOrders returns every distinct credential list Lookup can return, keyed by its JSON.
//
// Only entries that appear in the result can move: which index keys match the image does not
// depend on Add order, and every credential of a matched key is returned. Among those, only
// entries of one source whose index keys are equal can swap places (creds[key] is a list in
// append order; distinct keys are visited in index order). indexKey groups them; when cheap, the
// grouping is checked against permuting all of a source's returned entries.
func enumerateOrders(sources []source, repo string) (map[string][]credentialOut, error) {
	base, _ := build(sources, make([][]int, len(sources))).Lookup(repo)
	returned := make([][]int, len(sources)) // per source, returned entry indexes in base order
	for _, c := range base {
		t, err := untag(c)
		if err != nil {
			return nil, fmt.Errorf("oracle: %v", err)
		}
		returned[t.src] = append(returned[t.src], t.entry)
	}
	for i := range returned {
		sort.Ints(returned[i])
	}

	grouped := make([][][]int, len(sources)) // per source, groups of returned entries sharing a key
	groupedCount, fullCount := 1, 1
	for i, s := range sources {
		byKey := map[string][]int{}
		var keys []string
		for _, e := range returned[i] {
			k := indexKey(s.locs[e])
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], e)
		}
		sort.Strings(keys)
		for _, k := range keys {
			grouped[i] = append(grouped[i], byKey[k])
			groupedCount = mulCapped(groupedCount, factorial(len(byKey[k])))
		}
		fullCount = mulCapped(fullCount, factorial(len(returned[i])))
	}
	if groupedCount > maxOrders {
		return nil, fmt.Errorf("too many possible orders (more than %d) to enumerate", maxOrders)
	}

	collect := func(choices [][][]int) map[string][]credentialOut {
		out := map[string][]credentialOut{}
		product(choices, func(order [][]int) {
			got, _ := build(sources, order).Lookup(repo)
			list := make([]credentialOut, 0, len(got))
			for _, c := range got {
				t, _ := untag(c)
				list = append(list, describe(c, sources[t.src].label))
			}
			out[orderKey(list)] = list
		})
		return out
	}

	// Per source: every order made by permuting inside each group (groups in a fixed order).
	choices := make([][][]int, len(sources))
	for i := range sources {
		choices[i] = groupPermutations(grouped[i])
	}
	orders := collect(choices)

	if fullCount <= fullCheckLimit {
		full := make([][][]int, len(sources))
		for i := range sources {
			full[i] = permutations(returned[i])
		}
		check := collect(full)
		if len(check) != len(orders) {
			return nil, fmt.Errorf("oracle self-check failed: grouping by index key gives %d orders, full permutation %d", len(orders), len(check))
		}
		for k := range check {
			if _, ok := orders[k]; !ok {
				return nil, errors.New("oracle self-check failed: full permutation found an order grouping missed")
			}
		}
	}
	return orders, nil
}

// indexKey is the key BasicDockerKeyring.Add files a location under (it is not exported):
// scheme added when missing, host plus path with a leading /v1/ or /v2/ dropped, bare host when
// the path is empty or "/". Unparseable locations are skipped by Add; give each its own key.
func indexKey(loc string) string {
	value := loc
	if !strings.HasPrefix(value, "https://") && !strings.HasPrefix(value, "http://") {
		value = "https://" + value
	}
	u, err := url.Parse(value)
	if err != nil {
		return "\x00invalid:" + loc
	}
	p := u.Path
	if strings.HasPrefix(p, "/v2/") || strings.HasPrefix(p, "/v1/") {
		p = p[3:]
	}
	if p == "" || p == "/" {
		return u.Host
	}
	return u.Host + p
}

// groupPermutations lists, for groups g1..gn, every concatenation perm(g1)+...+perm(gn).
func groupPermutations(groups [][]int) [][]int {
	result := [][]int{{}}
	for _, g := range groups {
		var next [][]int
		for _, prefix := range result {
			for _, p := range permutations(g) {
				seq := append(append([]int{}, prefix...), p...)
				next = append(next, seq)
			}
		}
		result = next
	}
	return result
}

func permutations(items []int) [][]int {
	if len(items) <= 1 {
		return [][]int{append([]int{}, items...)}
	}
	var out [][]int
	for i := range items {
		rest := make([]int, 0, len(items)-1)
		rest = append(rest, items[:i]...)
		rest = append(rest, items[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]int{items[i]}, p...))
		}
	}
	return out
}

// product calls f with every combination choosing one order per source.
func product(choices [][][]int, f func([][]int)) {
	current := make([][]int, len(choices))
	var rec func(i int)
	rec = func(i int) {
		if i == len(choices) {
			f(current)
			return
		}
		for _, c := range choices[i] {
			current[i] = c
			rec(i + 1)
		}
	}
	rec(0)
}

func factorial(n int) int {
	f := 1
	for i := 2; i <= n; i++ {
		f = mulCapped(f, i)
	}
	return f
}

func mulCapped(a, b int) int {
	if a > 1<<40 || b > 1<<40 {
		return 1 << 41
	}
	return a * b
}

func sourceLabel(s *credentialprovider.CredentialSource) string {
	if s == nil || s.Secret == nil {
		return "node"
	}
	return "secret:" + s.Secret.Name
}

func describe(c credentialprovider.TrackedAuthConfig, label string) credentialOut {
	return credentialOut{
		Source: label, Username: c.Username, Password: c.Password, Auth: c.Auth, Email: c.Email,
		ServerAddress: c.ServerAddress, IdentityToken: c.IdentityToken, RegistryToken: c.RegistryToken,
	}
}

func orderKey(list []credentialOut) string {
	b, _ := json.Marshal(list)
	return string(b)
}

func ptr(s string) *string { return &s }

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
				b = []byte(`{"id":null,"error":"oracle: cannot encode response","orders":[]}`)
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
