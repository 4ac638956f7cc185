// k8s-validate checks rendered Kubernetes manifests without a cluster.
//
// Each document of the YAML streams given as arguments (or stdin) is decoded strictly into the
// typed struct of its apiVersion/kind from k8s.io/api: an unknown field, a duplicate field or a
// wrong type is an error, as the API server's strict field validation would report it. Then the
// checks apimachinery offers (object metadata, labels, annotations, label selectors, DNS names,
// ports, env names, config map keys) run, with the pod-spec rules an API server would refuse
// most often (unique container and volume names, mounts of declared volumes, one source per
// volume, probe ports that exist, requests not above limits, toleration operators) and the
// references between the rendered objects (namespace, service account, config map). Pod
// templates are evaluated against the Pod Security Standards by the policy library the
// admission plugin itself uses.
//
// Output: a JSON report on stdout ({"objects", "errors", "podSecurity"}); the exit status is 1
// when there is any error, 2 on a usage or I/O problem. Pod Security findings are reported, not
// errors: the caller decides which level a workload must meet.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"
)

type objectRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

func (r objectRef) String() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

type finding struct {
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

type report struct {
	Objects     []objectRef                     `json:"objects"`
	Errors      []string                        `json:"errors"`
	PodSecurity map[string]map[string][]finding `json:"podSecurity"`
}

// newObject returns the typed struct for an apiVersion/kind, and whether it lives in a namespace.
func newObject(apiVersion, kind string) (interface{}, bool, bool) {
	switch apiVersion + " " + kind {
	case "v1 Namespace":
		return &corev1.Namespace{}, false, true
	case "v1 ServiceAccount":
		return &corev1.ServiceAccount{}, true, true
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}, true, true
	case "v1 Secret":
		return &corev1.Secret{}, true, true
	case "v1 Service":
		return &corev1.Service{}, true, true
	case "apps/v1 DaemonSet":
		return &appsv1.DaemonSet{}, true, true
	case "rbac.authorization.k8s.io/v1 ClusterRole":
		return &rbacv1.ClusterRole{}, false, true
	case "rbac.authorization.k8s.io/v1 ClusterRoleBinding":
		return &rbacv1.ClusterRoleBinding{}, false, true
	case "rbac.authorization.k8s.io/v1 Role":
		return &rbacv1.Role{}, true, true
	case "rbac.authorization.k8s.io/v1 RoleBinding":
		return &rbacv1.RoleBinding{}, true, true
	}
	return nil, false, false
}

// splitDocuments splits a YAML stream at its `---` lines; empty and comment-only documents are
// dropped (helm renders them for disabled templates).
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	flush := func() {
		meaningful := false
		for _, line := range strings.Split(cur.String(), "\n") {
			t := strings.TrimSpace(line)
			if t != "" && !strings.HasPrefix(t, "#") {
				meaningful = true
				break
			}
		}
		if meaningful {
			docs = append(docs, append([]byte(nil), cur.Bytes()...))
		}
		cur.Reset()
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "---") && strings.TrimSpace(strings.TrimLeft(line, "-")) == "" ||
			strings.HasPrefix(line, "--- ") {
			flush()
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	flush()
	return docs
}

type validator struct {
	rep        report
	objects    map[string]bool // objectRef.String() of every decoded object
	references []reference
	evaluator  policy.Evaluator
}

// reference is an object a rendered object needs; optional ones may be created later by hand.
type reference struct {
	from objectRef
	to   objectRef
}

func (v *validator) errorf(format string, args ...interface{}) {
	v.rep.Errors = append(v.rep.Errors, fmt.Sprintf(format, args...))
}

func (v *validator) addFieldErrors(ref objectRef, errs field.ErrorList) {
	for _, e := range errs {
		v.errorf("%s: %s", ref, e.Error())
	}
}

func (v *validator) document(source string, index int, doc []byte) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		v.errorf("%s document %d: not a Kubernetes object: %v", source, index, err)
		return
	}
	obj, namespaced, ok := newObject(tm.APIVersion, tm.Kind)
	if !ok {
		v.errorf("%s document %d: unknown apiVersion/kind %q %q", source, index, tm.APIVersion, tm.Kind)
		return
	}
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		v.errorf("%s document %d (%s): %v", source, index, tm.Kind, err)
		return
	}
	meta := reflect.ValueOf(obj).Elem().FieldByName("ObjectMeta").Addr().Interface().(*metav1.ObjectMeta)
	ref := objectRef{Kind: tm.Kind, Namespace: meta.Namespace, Name: meta.Name}
	if v.objects[ref.String()] {
		v.errorf("%s: defined twice", ref)
	}
	v.objects[ref.String()] = true
	v.rep.Objects = append(v.rep.Objects, ref)

	nameFn := apivalidation.NameIsDNSSubdomain
	if tm.Kind == "Namespace" || tm.Kind == "Service" {
		nameFn = apivalidation.NameIsDNSLabel
	}
	v.addFieldErrors(ref, apivalidation.ValidateObjectMeta(meta, namespaced, nameFn, field.NewPath("metadata")))
	if namespaced && meta.Namespace != "" {
		v.references = append(v.references, reference{ref, objectRef{Kind: "Namespace", Name: meta.Namespace}})
	}

	switch o := obj.(type) {
	case *corev1.ConfigMap:
		for key := range o.Data {
			for _, msg := range validation.IsConfigMapKey(key) {
				v.errorf("%s: data key %q: %s", ref, key, msg)
			}
		}
	case *appsv1.DaemonSet:
		v.daemonSet(ref, o)
	}
}

func (v *validator) daemonSet(ref objectRef, ds *appsv1.DaemonSet) {
	spec := field.NewPath("spec")
	if ds.Spec.Selector == nil {
		v.errorf("%s: spec.selector: Required value", ref)
	} else {
		v.addFieldErrors(ref, metav1validation.ValidateLabelSelector(ds.Spec.Selector,
			metav1validation.LabelSelectorValidationOptions{}, spec.Child("selector")))
		sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
		if err != nil {
			v.errorf("%s: spec.selector: %v", ref, err)
		} else if sel.Empty() {
			v.errorf("%s: spec.selector: empty selector is not allowed", ref)
		} else if !sel.Matches(labels.Set(ds.Spec.Template.Labels)) {
			v.errorf("%s: spec.template.metadata.labels: does not match spec.selector", ref)
		}
	}
	v.addFieldErrors(ref, metav1validation.ValidateLabels(ds.Spec.Template.Labels, spec.Child("template", "metadata", "labels")))
	v.addFieldErrors(ref, apivalidation.ValidateAnnotations(ds.Spec.Template.Annotations, spec.Child("template", "metadata", "annotations")))
	v.podSpec(ref, &ds.Spec.Template.Spec, spec.Child("template", "spec"))

	findings := map[string][]finding{}
	for _, level := range []psaapi.Level{psaapi.LevelBaseline, psaapi.LevelRestricted} {
		results := v.evaluator.EvaluatePod(psaapi.LevelVersion{Level: level, Version: psaapi.LatestVersion()},
			&ds.Spec.Template.ObjectMeta, &ds.Spec.Template.Spec)
		list := []finding{}
		for _, r := range results {
			if !r.Allowed {
				list = append(list, finding{Reason: r.ForbiddenReason, Detail: r.ForbiddenDetail})
			}
		}
		findings[string(level)] = list
	}
	v.rep.PodSecurity[ref.String()] = findings
}

func (v *validator) podSpec(ref objectRef, pod *corev1.PodSpec, path *field.Path) {
	volumes := map[string]bool{}
	for i, vol := range pod.Volumes {
		p := path.Child("volumes").Index(i)
		for _, msg := range validation.IsDNS1123Label(vol.Name) {
			v.errorf("%s: %s.name %q: %s", ref, p, vol.Name, msg)
		}
		if volumes[vol.Name] {
			v.errorf("%s: %s.name %q: Duplicate value", ref, p, vol.Name)
		}
		volumes[vol.Name] = true
		if n := countSet(vol.VolumeSource); n != 1 {
			v.errorf("%s: %s: must specify exactly 1 volume type, has %d", ref, p, n)
		}
		if vol.HostPath != nil && !strings.HasPrefix(vol.HostPath.Path, "/") {
			v.errorf("%s: %s.hostPath.path %q: must be absolute", ref, p, vol.HostPath.Path)
		}
		if vol.ConfigMap != nil && (vol.ConfigMap.Optional == nil || !*vol.ConfigMap.Optional) {
			v.references = append(v.references, reference{ref, objectRef{"ConfigMap", ref.Namespace, vol.ConfigMap.Name}})
		}
	}
	if pod.ServiceAccountName != "" {
		v.references = append(v.references, reference{ref, objectRef{"ServiceAccount", ref.Namespace, pod.ServiceAccountName}})
	}
	for i, t := range pod.Tolerations {
		p := path.Child("tolerations").Index(i)
		switch t.Operator {
		case corev1.TolerationOpExists:
			if t.Value != "" {
				v.errorf("%s: %s.value: must be empty when operator is Exists", ref, p)
			}
		case corev1.TolerationOpEqual, "":
			if t.Key == "" {
				v.errorf("%s: %s.key: Required value when operator is Equal", ref, p)
			}
		default:
			v.errorf("%s: %s.operator %q: Unsupported value", ref, p, t.Operator)
		}
		switch t.Effect {
		case "", corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		default:
			v.errorf("%s: %s.effect %q: Unsupported value", ref, p, t.Effect)
		}
	}
	if len(pod.Containers) == 0 {
		v.errorf("%s: %s.containers: Required value", ref, path)
	}
	names := map[string]bool{}
	check := func(c *corev1.Container, p *field.Path) {
		for _, msg := range validation.IsDNS1123Label(c.Name) {
			v.errorf("%s: %s.name %q: %s", ref, p, c.Name, msg)
		}
		if names[c.Name] {
			v.errorf("%s: %s.name %q: Duplicate value", ref, p, c.Name)
		}
		names[c.Name] = true
		if strings.TrimSpace(c.Image) == "" {
			v.errorf("%s: %s.image: Required value", ref, p)
		}
		ports := map[string]bool{}
		for j, port := range c.Ports {
			pp := p.Child("ports").Index(j)
			for _, msg := range validation.IsValidPortNum(int(port.ContainerPort)) {
				v.errorf("%s: %s.containerPort: %s", ref, pp, msg)
			}
			if port.Name != "" {
				for _, msg := range validation.IsValidPortName(port.Name) {
					v.errorf("%s: %s.name %q: %s", ref, pp, port.Name, msg)
				}
				ports[port.Name] = true
			}
		}
		for j, e := range c.Env {
			for _, msg := range validation.IsEnvVarName(e.Name) {
				v.errorf("%s: %s.name %q: %s", ref, p.Child("env").Index(j), e.Name, msg)
			}
		}
		mounts := map[string]bool{}
		for j, m := range c.VolumeMounts {
			mp := p.Child("volumeMounts").Index(j)
			if !volumes[m.Name] {
				v.errorf("%s: %s.name %q: Not found among the pod's volumes", ref, mp, m.Name)
			}
			if !strings.HasPrefix(m.MountPath, "/") {
				v.errorf("%s: %s.mountPath %q: must be absolute", ref, mp, m.MountPath)
			}
			if mounts[m.MountPath] {
				v.errorf("%s: %s.mountPath %q: must be unique", ref, mp, m.MountPath)
			}
			mounts[m.MountPath] = true
		}
		for name, probe := range map[string]*corev1.Probe{"livenessProbe": c.LivenessProbe,
			"readinessProbe": c.ReadinessProbe, "startupProbe": c.StartupProbe} {
			if probe == nil || probe.HTTPGet == nil {
				continue
			}
			port := probe.HTTPGet.Port
			if port.Type == 1 && !ports[port.StrVal] {
				v.errorf("%s: %s.httpGet.port %q: not a named port of the container", ref, p.Child(name), port.StrVal)
			}
			if port.Type == 0 {
				for _, msg := range validation.IsValidPortNum(int(port.IntVal)) {
					v.errorf("%s: %s.httpGet.port: %s", ref, p.Child(name), msg)
				}
			}
		}
		for res, limit := range c.Resources.Limits {
			if req, ok := c.Resources.Requests[res]; ok && req.Cmp(limit) > 0 {
				v.errorf("%s: %s.resources.requests[%s]: must be less than or equal to the limit", ref, p, res)
			}
		}
	}
	for i := range pod.InitContainers {
		check(&pod.InitContainers[i], path.Child("initContainers").Index(i))
	}
	for i := range pod.Containers {
		check(&pod.Containers[i], path.Child("containers").Index(i))
	}
}

// countSet counts the non-nil pointer fields of a volume source: exactly one is allowed.
func countSet(src corev1.VolumeSource) int {
	n := 0
	rv := reflect.ValueOf(src)
	for i := 0; i < rv.NumField(); i++ {
		if f := rv.Field(i); f.Kind() == reflect.Ptr && !f.IsNil() {
			n++
		}
	}
	return n
}

func main() {
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "k8s-validate:", err)
		os.Exit(2)
	}
	v := &validator{
		rep:       report{Objects: []objectRef{}, Errors: []string{}, PodSecurity: map[string]map[string][]finding{}},
		objects:   map[string]bool{},
		evaluator: evaluator,
	}
	sources := os.Args[1:]
	if len(sources) == 0 {
		sources = []string{"-"}
	}
	for _, src := range sources {
		var data []byte
		if src == "-" {
			data, err = io.ReadAll(os.Stdin)
		} else {
			data, err = os.ReadFile(src)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "k8s-validate:", err)
			os.Exit(2)
		}
		for i, doc := range splitDocuments(data) {
			v.document(src, i, doc)
		}
	}
	for _, r := range v.references {
		if !v.objects[r.to.String()] {
			v.errorf("%s: refers to %s, which is not among the objects", r.from, r.to)
		}
	}
	sort.Strings(v.rep.Errors)
	out, _ := json.MarshalIndent(v.rep, "", "  ")
	fmt.Println(string(out))
	if len(v.rep.Errors) > 0 {
		os.Exit(1)
	}
}
