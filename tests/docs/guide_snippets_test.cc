// docs/guide.md quotes examples/guide/main.cc, which the build compiles: each block marked
// `<!-- snippet: NAME -->` must equal the region between `// [guide:NAME]` and `// [guide:end]`
// (with the region's common indentation removed), and every region must be quoted.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

// NAME -> dedented text of each `// [guide:NAME]` region; `errors` gets malformed regions.
std::map<std::string, std::string> code_regions(const std::vector<std::string>& lines,
                                                std::vector<std::string>& errors) {
  std::map<std::string, std::string> out;
  const std::string open = "// [guide:", end = "// [guide:end]";
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string t = trim(lines[i]);
    if (t.rfind(open, 0) != 0 || t == end) continue;
    const std::string name = t.substr(open.size(), t.size() - open.size() - 1);
    std::vector<std::string> body;
    size_t j = i + 1;
    for (; j < lines.size() && trim(lines[j]) != end; ++j) body.push_back(lines[j]);
    if (j == lines.size()) errors.push_back("region '" + name + "' has no // [guide:end]");
    size_t indent = std::string::npos;
    for (const std::string& l : body)
      if (!trim(l).empty()) indent = std::min(indent, l.find_first_not_of(' '));
    for (std::string& l : body) l = trim(l).empty() ? "" : l.substr(indent);
    if (!out.emplace(name, join(body)).second) errors.push_back("region '" + name + "' appears twice");
    i = j;
  }
  return out;
}

// NAME -> the fenced block following each `<!-- snippet: NAME -->` line.
std::map<std::string, std::string> doc_snippets(const std::vector<std::string>& lines,
                                                std::vector<std::string>& errors) {
  std::map<std::string, std::string> out;
  const std::string open = "<!-- snippet: ";
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string t = trim(lines[i]);
    if (t.rfind(open, 0) != 0) continue;
    const std::string name = t.substr(open.size(), t.size() - open.size() - 4);
    if (i + 1 >= lines.size() || trim(lines[i + 1]).rfind("```", 0) != 0) {
      errors.push_back("snippet '" + name + "' is not followed by a ``` block");
      continue;
    }
    std::vector<std::string> body;
    size_t j = i + 2;
    for (; j < lines.size() && trim(lines[j]) != "```"; ++j) body.push_back(lines[j]);
    if (!out.emplace(name, join(body)).second) errors.push_back("snippet '" + name + "' appears twice");
    i = j;
  }
  return out;
}

TEST(Guide, QuotesTheCompiledExampleVerbatim) {
  const std::string root = FLARE_SOURCE_DIR;
  const std::vector<std::string> code = read_lines(root + "/examples/guide/main.cc");
  const std::vector<std::string> doc = read_lines(root + "/docs/guide.md");
  ASSERT_FALSE(code.empty()) << "cannot read examples/guide/main.cc";
  ASSERT_FALSE(doc.empty()) << "cannot read docs/guide.md";
  std::vector<std::string> errors;
  const auto regions = code_regions(code, errors);
  const auto snippets = doc_snippets(doc, errors);
  for (const std::string& e : errors) ADD_FAILURE() << e;
  EXPECT_GE(regions.size(), 5u);
  for (const auto& [name, text] : snippets) {
    auto it = regions.find(name);
    if (it == regions.end()) {
      ADD_FAILURE() << "docs/guide.md quotes snippet '" << name << "', which main.cc does not mark";
      continue;
    }
    EXPECT_EQ(text, it->second) << "docs/guide.md's snippet '" << name
                                << "' differs from examples/guide/main.cc";
  }
  for (const auto& [name, text] : regions)
    EXPECT_TRUE(snippets.count(name)) << "region '" << name << "' of main.cc is not quoted in the guide";
}

}  // namespace
