// A config is its main file plus the conf.d/*.yaml pieces beside it, merged in name order.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "daemon/registry/config_dump.h"
#include "daemon/registry/config_loader.h"
#include "config/config_sources.h"
#include "daemon/commands/config_watch.h"

namespace logship::config {
namespace {

class ConfigPiecesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/logship-pieces-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    main_ = dir_ + "/logship.yaml";
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }

  void write(const std::string& rel, const std::string& text) {
    const std::string path = dir_ + "/" + rel;
    ::mkdir((dir_ + "/conf.d").c_str(), 0755);
    std::ofstream(path) << text;
  }
  std::vector<std::string> load_errors() {
    Errors errors(main_);
    auto cfg = load_config_file(main_, errors);
    std::vector<std::string> out;
    for (const auto& e : errors.all()) out.push_back(e.to_string());
    EXPECT_EQ(cfg.has_value(), out.empty());
    return out;
  }

  std::string dir_, main_;
};

TEST_F(ConfigPiecesTest, PiecesAddComponentsAndRoutesInNameOrder) {
  write("logship.yaml", R"(service: {state_dir: /tmp/x}
inputs:
  gen: {type: generate, count: 1}
outputs:
  main_out: {type: null}
routes:
  - {match: [gen], outputs: [main_out]}
)");
  // 20 before 10 on disk; merged by name: 10 first. Pieces may refer to the main file's
  // components and to each other's.
  write("conf.d/20-b.yaml", R"(outputs:
  b_out: {type: null}
routes:
  - {match: [b_in], outputs: [b_out, main_out]}
)");
  write("conf.d/10-a.yaml", R"(inputs:
  b_in: {type: generate, count: 2}
)");
  write("conf.d/notes.txt", "inputs: {broken");          // not a piece
  write("conf.d/.hidden.yaml", "inputs: {broken");       // not a piece
  write("conf.d/30-empty.yaml", "");                     // an empty piece adds nothing
  Errors errors(main_);
  auto cfg = load_config_file(main_, errors);
  ASSERT_TRUE(cfg) << errors.to_string();
  EXPECT_EQ(cfg->pieces, (std::vector<std::string>{dir_ + "/conf.d/10-a.yaml",
                                                   dir_ + "/conf.d/20-b.yaml",
                                                   dir_ + "/conf.d/30-empty.yaml"}));
  ASSERT_EQ(cfg->inputs.size(), 2u);
  EXPECT_EQ(cfg->inputs[1].name, "b_in");
  EXPECT_EQ(cfg->inputs[1].file, dir_ + "/conf.d/10-a.yaml");
  ASSERT_EQ(cfg->outputs.size(), 2u);
  ASSERT_EQ(cfg->routes.size(), 2u);
  EXPECT_EQ(cfg->routes[1].outputs, (std::vector<std::string>{"b_out", "main_out"}));
  EXPECT_EQ(cfg->input_route, (std::vector<std::size_t>{0, 1}));
  // validate --print shows a piece's component with its options.
  const std::string printed = effective_config_yaml(cfg->text, *cfg);
  EXPECT_NE(printed.find("b_in:\n    type: generate\n    count: 2"), std::string::npos) << printed;
}

TEST_F(ConfigPiecesTest, ANameDefinedTwiceNamesBothFiles) {
  write("logship.yaml", "inputs:\n  gen: {type: generate}\noutputs:\n  out: {type: null}\n");
  write("conf.d/50-dup.yaml", "outputs:\n  other: {type: null}\n  out: {type: null}\n");
  auto errs = load_errors();
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0], dir_ + "/conf.d/50-dup.yaml:3:3: outputs.out: defined twice (first at " +
                         dir_ + "/logship.yaml:4:3)");
}

TEST_F(ConfigPiecesTest, ErrorsInAPieceNameThePiece) {
  write("logship.yaml", "inputs:\n  gen: {type: generate}\noutputs:\n  out: {type: null}\n");
  write("conf.d/10-bad.yaml", "outputs:\n  o2:\n    type: null\n    colour: red\n");
  write("conf.d/20-svc.yaml", "service:\n  log_level: debug\n");
  auto errs = load_errors();
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_EQ(errs[0], dir_ + "/conf.d/20-svc.yaml:1:1: service: belongs in the main config file (" +
                         main_ + "), not in a conf.d piece");
  EXPECT_EQ(errs[1], dir_ + "/conf.d/10-bad.yaml:4:5: outputs.o2 (null): unknown option 'colour'");
}

TEST_F(ConfigPiecesTest, SyntaxErrorInAPieceFailsTheWholeLoad) {
  write("logship.yaml", "inputs:\n  gen: {type: generate}\noutputs:\n  out: {type: null}\n");
  write("conf.d/10-bad.yaml", "outputs: {broken\n");
  auto errs = load_errors();
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].rfind(dir_ + "/conf.d/10-bad.yaml:", 0), 0u) << errs[0];
  EXPECT_NE(errs[0].find("YAML syntax error"), std::string::npos);
}

TEST_F(ConfigPiecesTest, AnInputMatchedByRoutesOfTwoFilesNamesBoth) {
  write("logship.yaml", "inputs:\n  gen: {type: generate}\noutputs:\n  out: {type: null}\n"
                        "routes:\n  - {match: [gen], outputs: [out]}\n");
  write("conf.d/10-r.yaml", "routes:\n  - {match: ['g*'], outputs: [out]}\n");
  auto errs = load_errors();
  ASSERT_EQ(errs.size(), 1u);
  // Routes are numbered across files, main file first; the error is at the input.
  EXPECT_EQ(errs[0], main_ + ":2:3: inputs.gen: matched by routes[0] and routes[1]; an input "
                             "takes exactly one route (list several outputs in it)");
}

TEST_F(ConfigPiecesTest, TheWatchSeesAPieceAddedChangedOrRemoved) {
  write("logship.yaml", "inputs:\n  gen: {type: generate}\noutputs:\n  out: {type: null}\n");
  commands::ConfigWatch watch(main_, std::chrono::milliseconds(1));
  auto changed = [&] {
    ::usleep(5000);
    return watch.changed();
  };
  EXPECT_FALSE(changed());
  write("conf.d/10-a.yaml", "outputs:\n  a: {type: null}\n");
  EXPECT_TRUE(changed());
  EXPECT_FALSE(changed());
  write("conf.d/10-a.yaml", "outputs:\n  a: {type: stdout}\n");   // size differs
  EXPECT_TRUE(changed());
  ::unlink((dir_ + "/conf.d/10-a.yaml").c_str());
  EXPECT_TRUE(changed());
  write("conf.d/README", "not a piece");
  EXPECT_FALSE(changed());
}

TEST(PeerSpellingTest, OtherShippersWordsPointToLogshipsOwn) {
  auto errs = [](const std::string& yaml) {
    Errors errors("t.yaml");
    load_config_text(yaml, "t.yaml", errors);
    return errors.to_string();
  };
  EXPECT_EQ(errs("sources:\n  a: {type: file}\n"),
            "t.yaml:1:1: unknown section 'sources'; Vector's sources are logship's 'inputs'\n");
  EXPECT_NE(errs("inputs:\n  a: {type: tail, paths: [/x]}\noutputs:\n  o: {type: null}\n")
                .find("unknown input type 'tail'; Fluent Bit's tail is the 'file' input"),
            std::string::npos);
  EXPECT_NE(errs("inputs:\n  a: {type: generate, Mem_Buf_Limit: 5MB}\noutputs:\n  o: {type: null}\n")
                .find("unknown option 'Mem_Buf_Limit'; Fluent Bit's Mem_Buf_Limit: "
                      "service.memory_limit"),
            std::string::npos);
  EXPECT_NE(errs("inputs:\n  a: {type: generate}\noutputs:\n  o: {type: es}\n")
                .find("unknown output type 'es'; Fluent Bit's es output is 'elasticsearch'"),
            std::string::npos);
  // A plain typo still gets the nearest word, not a peer's.
  EXPECT_NE(errs("inputs:\n  a: {type: generate, cuont: 1}\noutputs:\n  o: {type: null}\n")
                .find("did you mean 'count'?"),
            std::string::npos);
}

}  // namespace
}  // namespace logship::config
