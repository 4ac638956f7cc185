#include "inputs/docker/metadata.h"

#include <fnmatch.h>

#include <cctype>
#include <utility>

#include <algorithm>

#include <simdjson.h>

namespace logship::docker {

const std::string* ContainerMeta::label(std::string_view k) const {
  for (const auto& [key, value] : labels) {
    if (key == k) return &value;
  }
  return nullptr;
}

std::size_t ContainerMeta::held_bytes() const {
  std::size_t n = id.capacity() + name.capacity() + image.capacity() + hostname.capacity() +
                  labels.capacity() * sizeof(labels[0]);
  if (pod) {
    n += sizeof(PodMeta) + pod->namespace_name.capacity() + pod->pod.capacity() +
         pod->pod_uid.capacity();
  }
  for (const auto& [k, v] : labels) n += k.capacity() + v.capacity();
  return n;
}

Result<ContainerMeta> parse_container_config(std::string_view json) {
  using namespace simdjson;
  ContainerMeta meta;
  padded_string text(json);
  ondemand::parser parser;
  ondemand::document doc;
  ondemand::object root;
  if (parser.iterate(text).get(doc) || doc.get_object().get(root)) {
    return Status::corrupt("not a JSON object");
  }
  auto str = [](ondemand::value v, std::string* dst) {
    std::string_view s;
    if (!v.get_string().get(s)) dst->assign(s);
  };
  bool have_config = false;
  for (auto fr : root) {
    ondemand::field f;
    std::string_view key;
    if (std::move(fr).get(f) || f.unescaped_key().get(key)) {
      return Status::corrupt("invalid JSON");
    }
    if (key == "ID") {
      str(f.value(), &meta.id);
    } else if (key == "Name") {
      str(f.value(), &meta.name);
      if (!meta.name.empty() && meta.name[0] == '/') meta.name.erase(0, 1);
    } else if (key == "Config") {
      ondemand::object cfg;
      if (f.value().get_object().get(cfg)) continue;
      have_config = true;
      for (auto cr : cfg) {
        ondemand::field cf;
        std::string_view ck;
        if (std::move(cr).get(cf) || cf.unescaped_key().get(ck)) {
          return Status::corrupt("invalid JSON in Config");
        }
        if (ck == "Image") {
          str(cf.value(), &meta.image);
        } else if (ck == "Hostname") {
          str(cf.value(), &meta.hostname);
        } else if (ck == "Labels") {
          ondemand::object labels;
          if (cf.value().get_object().get(labels)) continue;   // null: no labels
          for (auto lr : labels) {
            ondemand::field lf;
            std::string_view lk, lv;
            if (std::move(lr).get(lf) || lf.unescaped_key().get(lk)) {
              return Status::corrupt("invalid JSON in Config.Labels");
            }
            if (lf.value().get_string().get(lv)) continue;
            meta.labels.emplace_back(std::string(lk), std::string(lv));
          }
        }
        // Config.Env is deliberately never read: it often carries secrets.
      }
    }
  }
  if (!have_config) {
    return Status::corrupt("no Config object");
  }
  std::sort(meta.labels.begin(), meta.labels.end());
  return meta;
}

namespace {
constexpr std::string_view kComposeProject = "com.docker.compose.project";
constexpr std::string_view kComposeService = "com.docker.compose.service";
}  // namespace

std::size_t limit_labels(const LabelLimits& limits,
                         std::vector<std::pair<std::string, std::string>>* labels) {
  std::vector<std::pair<std::string, std::string>> kept;
  std::size_t bytes = 0;
  const auto fits = [&](const std::pair<std::string, std::string>& l) {
    const std::size_t size = l.first.size() + l.second.size();
    return l.second.size() <= limits.max_value_bytes && kept.size() < limits.max_labels &&
           bytes + size <= limits.max_total_bytes;
  };
  std::vector<bool> taken(labels->size(), false);
  const auto take = [&](std::size_t i) {
    auto& l = (*labels)[i];
    if (!fits(l)) return;
    bytes += l.first.size() + l.second.size();
    kept.push_back(std::move(l));
    taken[i] = true;
  };
  for (std::size_t i = 0; i < labels->size(); ++i) {
    const std::string& k = (*labels)[i].first;
    if (k == kComposeProject || k == kComposeService) take(i);
  }
  for (std::size_t i = 0; i < labels->size(); ++i) {
    if (!taken[i]) take(i);
  }
  const std::size_t dropped = labels->size() - kept.size();
  std::sort(kept.begin(), kept.end());
  *labels = std::move(kept);
  return dropped;
}

bool parse_cri_pod_dir(std::string_view pod_dir, std::string_view container, ContainerMeta* out) {
  *out = ContainerMeta{};
  std::size_t a = pod_dir.find('_');
  if (a == std::string_view::npos || a == 0) return false;
  std::size_t b = pod_dir.find('_', a + 1);
  if (b == std::string_view::npos || b == a + 1 || b + 1 >= pod_dir.size()) return false;
  if (pod_dir.find('_', b + 1) != std::string_view::npos) return false;
  out->pod = std::make_unique<PodMeta>();
  out->pod->namespace_name.assign(pod_dir.substr(0, a));
  out->pod->pod.assign(pod_dir.substr(a + 1, b - a - 1));
  out->pod->pod_uid.assign(pod_dir.substr(b + 1));
  out->name.assign(container);
  return !container.empty();
}

std::shared_ptr<const SourceInfo> make_source(const std::string& input, const std::string& key,
                                              const ContainerMeta& m,
                                              const std::string& file_path,
                                              const std::string& container_id) {
  auto s = std::make_shared<SourceInfo>();
  s->input = input;
  s->key = key;
  auto tag = [&](const char* k, const std::string& v) {
    if (!v.empty()) s->tags.push_back(Tag{k, ValueType::kString, v});
  };
  tag("container_id", container_id.empty() ? m.id : container_id);
  tag("container_name", m.name);
  tag("image", m.image);
  tag("hostname", m.hostname);
  if (const auto* p = m.label(kComposeProject)) tag("compose_project", *p);
  if (const auto* p = m.label(kComposeService)) tag("compose_service", *p);
  if (m.pod) {
    tag("namespace", m.pod->namespace_name);
    tag("pod", m.pod->pod);
    tag("pod_uid", m.pod->pod_uid);
  }
  s->labels = m.labels;
  s->file_path = file_path;
  return s;
}

namespace {

bool glob(const std::string& pattern, const std::string& value) {
  return ::fnmatch(pattern.c_str(), value.c_str(), 0) == 0;
}

bool any_glob(const std::vector<std::string>& patterns, const std::string& value) {
  for (const auto& p : patterns) {
    if (glob(p, value)) return true;
  }
  return false;
}

bool label_match(const std::string& pattern, const ContainerMeta& m) {
  std::size_t eq = pattern.find('=');
  std::string kp = pattern.substr(0, eq);
  for (const auto& [k, v] : m.labels) {
    if (!glob(kp, k)) continue;
    if (eq == std::string::npos || glob(pattern.substr(eq + 1), v)) return true;
  }
  return false;
}

bool any_label(const std::vector<std::string>& patterns, const ContainerMeta& m) {
  for (const auto& p : patterns) {
    if (label_match(p, m)) return true;
  }
  return false;
}

}  // namespace

bool ContainerFilter::active() const {
  return !include_names.empty() || !exclude_names.empty() || !include_images.empty() ||
         !exclude_images.empty() || !include_labels.empty() || !exclude_labels.empty();
}

std::string ContainerFilter::reject_reason(const ContainerMeta& m) const {
  if (!opt_out_label.empty()) {
    if (const auto* v = m.label(opt_out_label)) {
      std::string lower = *v;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "false" || lower == "0" || lower == "no") return "opted out by label " + opt_out_label;
    }
  }
  if (!include_names.empty() && !any_glob(include_names, m.name)) return "name not included";
  if (!include_images.empty() && !any_glob(include_images, m.image)) return "image not included";
  if (!include_labels.empty() && !any_label(include_labels, m)) return "labels not included";
  if (any_glob(exclude_names, m.name)) return "name excluded";
  if (any_glob(exclude_images, m.image)) return "image excluded";
  if (any_label(exclude_labels, m)) return "label excluded";
  return "";
}

}  // namespace logship::docker
