// Listing an image folder (`root/<class>/<image>`), local or an S3 prefix, in the order
// torchvision's ImageFolder and os.walk give: classes sorted, a folder's files (sorted) before its
// sub-folders (sorted).

#include <algorithm>
#include <filesystem>
#include <map>
#include <string_view>

#include "tensorbridge/core/error.hpp"
#include "tensorbridge/pipeline/dataset.hpp"

namespace tb {

namespace {

bool has_extension(std::string_view name, const std::vector<std::string>& extensions) {
  return std::any_of(extensions.begin(), extensions.end(), [&](const std::string& e) {
    if (name.size() < e.size()) return false;
    const std::string_view tail = name.substr(name.size() - e.size());
    return std::equal(tail.begin(), tail.end(), e.begin(), e.end(), [](char a, char b) {
      return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
    });
  });
}

// os.walk order for paths relative to one folder: at the first component where two paths differ,
// a file (the path's last component) comes before a folder, else the names compare as bytes.
bool walk_order(std::string_view a, std::string_view b) {
  for (;;) {
    const auto sa = a.find('/'), sb = b.find('/');
    const std::string_view ha = a.substr(0, sa), hb = b.substr(0, sb);
    const bool file_a = sa == std::string_view::npos, file_b = sb == std::string_view::npos;
    if (ha != hb || file_a || file_b) {
      if (file_a != file_b) return file_a;
      return ha < hb;
    }
    a.remove_prefix(sa + 1);
    b.remove_prefix(sb + 1);
  }
}

}  // namespace

image_folder_listing list_image_folder(const std::string& root, const std::vector<std::string>& extensions,
                                       const storage_options& storage) {
  std::string prefix = root;
  if (!prefix.empty() && prefix.back() != '/') prefix += '/';
  // class name -> its image paths relative to the class folder (and whether it has any object).
  std::map<std::string, std::vector<std::string>> classes;
  if (!is_remote_path(root)) {
    // Local class folders count even when empty (then the error below names them).
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(root, ec))
      fail(error_kind::not_found, "from_image_folder: ", root,
           " is not a directory; pass the folder holding one subfolder per class");
    for (const auto& e : fs::directory_iterator(root, ec)) {
      const std::string name = e.path().filename().string();
      if (!name.starts_with(".") && e.is_directory(ec)) classes[name];
    }
  }
  for (const object_info& o : list_objects(prefix, storage)) {
    if (o.path.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string_view rel = std::string_view(o.path).substr(prefix.size());
    const auto slash = rel.find('/');
    if (slash == std::string_view::npos || slash == 0 || rel.front() == '.') continue;  // not in a class folder
    auto& files = classes[std::string(rel.substr(0, slash))];
    const std::string_view inside = rel.substr(slash + 1);
    if (!inside.empty() && has_extension(inside, extensions)) files.emplace_back(inside);
  }
  if (classes.empty())
    fail(error_kind::not_found, "from_image_folder: ", root,
         " has no class folders; expected one subfolder per class holding its images (root/cat/1.jpg, "
         "root/dog/2.jpg, ...)");
  image_folder_listing out;
  for (auto& [name, files] : classes) {
    if (files.empty()) {
      std::string endings;
      for (const auto& e : extensions) endings += (endings.empty() ? "" : ", ") + e;
      fail(error_kind::not_found, "from_image_folder: class folder ", prefix, name, " has no images ending in ",
           endings, "; add images, remove the folder, or pass extensions=");
    }
    std::sort(files.begin(), files.end(), walk_order);
    const auto label = static_cast<std::int64_t>(out.class_names.size());
    out.class_names.push_back(name);
    for (const auto& f : files) {
      out.paths.push_back(prefix + name + "/" + f);
      out.labels.push_back(label);
    }
  }
  return out;
}

}  // namespace tb
