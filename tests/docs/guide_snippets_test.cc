// docs/guide.md quotes examples/guide/main.cc (docs/autobatch.md quotes examples/autobatch/main.cc),
// which the build compiles: each block marked
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

// `doc` (under docs/) quotes `code` (under examples/): every snippet is a region, verbatim, and
// every region is quoted.
void check_quotes(const std::string& code_file, const std::string& doc_file, size_t min_regions) {
  const std::string root = FLARE_SOURCE_DIR;
  const std::vector<std::string> code = read_lines(root + "/" + code_file);
  const std::vector<std::string> doc = read_lines(root + "/" + doc_file);
  ASSERT_FALSE(code.empty()) << "cannot read " << code_file;
  ASSERT_FALSE(doc.empty()) << "cannot read " << doc_file;
  std::vector<std::string> errors;
  const auto regions = code_regions(code, errors);
  const auto snippets = doc_snippets(doc, errors);
  for (const std::string& e : errors) ADD_FAILURE() << e;
  EXPECT_GE(regions.size(), min_regions);
  for (const auto& [name, text] : snippets) {
    auto it = regions.find(name);
    if (it == regions.end()) {
      ADD_FAILURE() << doc_file << " quotes snippet '" << name << "', which " << code_file << " does not mark";
      continue;
    }
    EXPECT_EQ(text, it->second) << doc_file << "'s snippet '" << name << "' differs from " << code_file;
  }
  for (const auto& [name, text] : regions)
    EXPECT_TRUE(snippets.count(name)) << "region '" << name << "' of " << code_file << " is not quoted in "
                                      << doc_file;
}

TEST(Guide, QuotesTheCompiledExampleVerbatim) { check_quotes("examples/guide/main.cc", "docs/guide.md", 5); }

// docs/autobatch.md quotes examples/autobatch/main.cc the same way.
TEST(Guide, AutobatchDocQuotesTheCompiledExampleVerbatim) {
  check_quotes("examples/autobatch/main.cc", "docs/autobatch.md", 4);
}

}  // namespace
