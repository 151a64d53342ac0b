// list_image_folder on a local folder: classes sorted (hidden and empty ones handled as
// torchvision/os.walk do), a folder's files before its sub-folders, extensions in any case.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tensorbridge/core/error.hpp"
#include "tensorbridge/pipeline/dataset.hpp"

namespace {

namespace fs = std::filesystem;

fs::path fresh_folder() {
  const fs::path root = fs::temp_directory_path() / ("tb_image_folder_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  return root;
}

void touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "x";
}

std::string error_of(const fs::path& root) {
  try {
    tb::list_image_folder(root.string(), {".jpg"});
  } catch (const tb::error& e) {
    EXPECT_EQ(e.kind(), tb::error_kind::not_found) << e.what();
    return e.what();
  }
  return "no error";
}

TEST(ImageFolder, WalkOrderClassesAndExtensions) {
  const fs::path root = fresh_folder();
  for (const char* f : {"b/z.jpg", "b/a/y.JPG", "b/a.jpg", "b/c/d/x.jpg", "b/c.txt", "a/2.jpeg", "a/1.jpg",
                        ".git/h.jpg", "top.jpg"})
    touch(root / f);
  const tb::image_folder_listing l = tb::list_image_folder(root.string(), {".jpg", ".jpeg"});
  EXPECT_EQ(l.class_names, (std::vector<std::string>{"a", "b"}));
  std::vector<std::string> rel;
  for (const auto& p : l.paths) rel.push_back(p.substr(root.string().size() + 1));
  // os.walk: a folder's files sorted, then its sub-folders sorted, recursively.
  EXPECT_EQ(rel, (std::vector<std::string>{"a/1.jpg", "a/2.jpeg", "b/a.jpg", "b/z.jpg", "b/a/y.JPG", "b/c/d/x.jpg"}));
  EXPECT_EQ(l.labels, (std::vector<std::int64_t>{0, 0, 1, 1, 1, 1}));
  fs::remove_all(root);
}

TEST(ImageFolder, Errors) {
  const fs::path root = fresh_folder();
  EXPECT_NE(error_of(root).find("has no class folders"), std::string::npos);
  fs::create_directories(root / "empty");
  touch(root / "full" / "1.jpg");
  EXPECT_NE(error_of(root).find("class folder " + (root / "empty").string() + " has no images ending in .jpg"),
            std::string::npos)
      << error_of(root);
  EXPECT_NE(error_of(root / "missing").find("is not a directory"), std::string::npos);
  fs::remove_all(root);
}

}  // namespace
