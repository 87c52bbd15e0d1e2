// Shell completion in real shells (bash + bash-completion, zsh, fish) with
// the checked-in scripts, against a store holding an imported image; and the
// check that completions/ matches what `ctr completion SHELL` prints.
// Regenerate after changing cmd/completion_scripts.cpp (from the source dir):
//   b=build/cmd/ctr; $b completion bash >completions/ctr.bash; $b completion zsh >completions/_ctr;
//   $b completion fish >completions/ctr.fish
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <thread>

#include "runtime/base/files.h"
#include "tests/integration/ctr_cli.h"

namespace ctr::itest {
namespace {

std::string source_dir() {
  const char* env = std::getenv("CTR_SOURCE_DIR");
  return env && *env ? env : CTR_SOURCE_DIR;
}

std::string script_path(const std::string& file) {
  return source_dir() + "/completions/" + file;
}

TEST(CtrCompletion, CheckedInScriptsMatchTheGenerator) {
  for (auto [shell, file] : {std::pair{"bash", "ctr.bash"}, {"zsh", "_ctr"}, {"fish", "ctr.fish"}}) {
    auto printed = run_command({ctr_binary(), "completion", shell});
    ASSERT_EQ(printed.code, 0) << printed.describe();
    auto checked_in = read_file(script_path(file));
    ASSERT_TRUE(checked_in) << checked_in.error().message;
    EXPECT_EQ(*checked_in, printed.out) << "completions/" << file << " is stale: regenerate it with `"
                                        << ctr_binary() << " completion " << shell << " > completions/" << file << "`";
  }
}

// Words as readline hands them to a completion function: split at blanks,
// and each run of COMP_WORDBREAKS characters (`=`, `:`) is a word of its own;
// a trailing blank starts an empty word.
std::vector<std::string> readline_words(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool in_breaks = false;
  for (char c : line) {
    bool is_break = c == '=' || c == ':';
    if (c == ' ' || (!word.empty() && is_break != in_breaks)) {
      if (!word.empty()) words.push_back(word);
      word.clear();
    }
    if (c != ' ') word += c;
    in_breaks = is_break;
  }
  words.push_back(word);
  return words;
}

class CtrCompletionShells : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto dir = TempDir::create("ctr-completion-test-");
    ASSERT_TRUE(dir) << dir.error().message;
    dir_.emplace(std::move(dir).value());
    const std::string& d = dir_->path();
    // `ctr` on PATH under its own name, as the scripts complete `ctr`.
    ASSERT_TRUE(mkdir_p(d + "/bin"));
    ASSERT_EQ(::symlink(ctr_binary().c_str(), (d + "/bin/ctr").c_str()), 0);
    ASSERT_TRUE(mkdir_p(d + "/rootfs/etc"));
    ASSERT_TRUE(write_file_atomic(d + "/rootfs/etc/hostname", "tiny\n"));
    auto tarred = run_shell("tar -C " + shell_quote(d + "/rootfs") + " -cf " + shell_quote(d + "/tiny.tar") + " .");
    ASSERT_EQ(tarred.code, 0) << tarred.describe();
    auto imported = run_command({ctr_binary(), "--root", d + "/store", "import", "-q", d + "/tiny.tar",
                                 "localhost/comptest:1.0"});
    ASSERT_EQ(imported.code, 0) << imported.describe();
    // A created (never started) container: a name to complete, no process to clean up.
    auto created = run_command({ctr_binary(), "--root", d + "/store", "create", "--name", "comptest-box",
                                "localhost/comptest:1.0", "/bin/true"});
    ASSERT_EQ(created.code, 0) << created.describe();
  }
  static void TearDownTestSuite() {
    if (dir_) (void)run_command({ctr_binary(), "--root", dir_->path() + "/store", "unshare", "rm", "-rf",
                                 dir_->path() + "/store"});
    dir_.reset();
  }

  // What every shell starts with: ctr on PATH, the test store as the default.
  static std::string env_prefix() {
    const std::string& d = dir_->path();
    return "PATH=" + shell_quote(d + "/bin") + ":\"$PATH\" CTR_STORAGE_ROOT=" + shell_quote(d + "/store") + " ";
  }

  // bash with bash-completion: the function the script registers, called as
  // readline would (COMP_LINE/COMP_POINT/COMP_WORDS/COMP_CWORD).
  static CommandOutput bash_complete(const std::string& line) {
    std::string words;
    for (const auto& word : readline_words(line)) words += shell_quote(word) + " ";
    std::string script = "source /usr/share/bash-completion/bash_completion; source " +
                         shell_quote(script_path("ctr.bash")) + "; COMP_LINE=" + shell_quote(line) +
                         "; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(" + words +
                         "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _ctr_complete; printf '%s\\n' \"${COMPREPLY[@]}\"";
    return run_shell(env_prefix() + "bash --norc --noprofile -c " + shell_quote(script), 30);
  }

  static CommandOutput fish_complete(const std::string& line) {
    std::string script = "source " + shell_quote(script_path("ctr.fish")) + "; complete -C " + shell_quote(line);
    return run_shell(env_prefix() + "fish --no-config -c " + shell_quote(script), 30);
  }

  static std::optional<TempDir> dir_;
};

std::optional<TempDir> CtrCompletionShells::dir_;


bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos ||
         ("\n" + text).find("\n" + line + "\t") != std::string::npos;
}

TEST_F(CtrCompletionShells, BashCompletesCommandsImagesAndFlagValues) {
  if (!have_tool("bash") || access("/usr/share/bash-completion/bash_completion", R_OK) != 0)
    FAIL() << "bash-completion is not installed: apt-get install bash-completion";
  auto commands = bash_complete("ctr im");
  EXPECT_EQ(commands.out, "images\nimport\nimage\n") << commands.describe();
  auto images = bash_complete("ctr rmi ");
  EXPECT_TRUE(has_line(images.out, "localhost/comptest:1.0")) << images.describe();
  // A colon is a word break in bash: only what follows it is replaced.
  auto tag = bash_complete("ctr rmi localhost/comptest:");
  EXPECT_EQ(tag.out, "1.0\n") << tag.describe();
  auto drivers = bash_complete("ctr --storage-driver ");
  EXPECT_EQ(drivers.out, "overlay\nfuse-overlayfs\nvfs\n") << drivers.describe();
  auto equals = bash_complete("ctr --storage-driver=fu");
  EXPECT_EQ(equals.out, "fuse-overlayfs\n") << equals.describe();
  auto flags = bash_complete("ctr load --in");
  EXPECT_EQ(flags.out, "--input\n") << flags.describe();
  auto starts = bash_complete("ctr st");
  EXPECT_EQ(starts.out, "stats\nstart\nstop\n") << starts.describe();
  auto containers = bash_complete("ctr logs ");
  EXPECT_TRUE(has_line(containers.out, "comptest-box")) << containers.describe();
  // Only running containers for stop: the created one is not offered.
  auto running = bash_complete("ctr stop ");
  EXPECT_FALSE(has_line(running.out, "comptest-box")) << running.describe();
  auto log_drivers = bash_complete("ctr run --log-driver ");
  EXPECT_EQ(log_drivers.out, "k8s-file\njson-file\nnone\npassthrough\n") << log_drivers.describe();
}

TEST_F(CtrCompletionShells, FishCompletesCommandsImagesAndFlagValues) {
  if (!have_tool("fish")) FAIL() << "fish is not installed: apt-get install fish";
  auto commands = fish_complete("ctr im");
  EXPECT_TRUE(has_line(commands.out, "images\tList images in local storage")) << commands.describe();
  EXPECT_TRUE(has_line(commands.out, "image\tManage images")) << commands.describe();
  auto images = fish_complete("ctr image inspect ");
  EXPECT_TRUE(has_line(images.out, "localhost/comptest:1.0")) << images.describe();
  auto drivers = fish_complete("ctr --storage-driver ");
  EXPECT_TRUE(has_line(drivers.out, "vfs")) << drivers.describe();
  EXPECT_TRUE(has_line(drivers.out, "fuse-overlayfs")) << drivers.describe();
  auto containers = fish_complete("ctr rm comptest-");
  EXPECT_TRUE(has_line(containers.out, "comptest-box")) << containers.describe();
  auto levels = fish_complete("ctr --log-level=");
  EXPECT_TRUE(has_line(levels.out, "--log-level=debug")) << levels.describe();
}

// zsh's completion widgets only run in an interactive line editor: drive a
// real one in a detached tmux session and read the screen.
class TmuxZsh {
 public:
  explicit TmuxZsh(const std::string& dir) : socket_(dir + "/tmux.sock") {}
  ~TmuxZsh() { (void)tmux("kill-server"); }
  CommandOutput tmux(const std::string& args) { return run_shell("tmux -S " + shell_quote(socket_) + " " + args, 20); }
  // Waits until the pane shows `text` (or times out); returns the pane.
  std::string wait_for(const std::string& text, int seconds = 10) {
    std::string screen;
    for (auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
         std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(std::chrono::milliseconds(100))) {
      screen = tmux("capture-pane -p -t ctrz").out;
      if (screen.find(text) != std::string::npos) break;
    }
    return screen;
  }

 private:
  std::string socket_;
};

TEST_F(CtrCompletionShells, ZshCompletesInALineEditor) {
  if (!have_tool("zsh")) FAIL() << "zsh is not installed: apt-get install zsh";
  if (!have_tool("tmux")) FAIL() << "tmux is not installed: apt-get install tmux";
  const std::string& d = dir_->path();
  std::string zdot = d + "/zdot";
  ASSERT_TRUE(mkdir_p(zdot));
  // A minimal interactive setup: compinit, the checked-in script, a marker prompt.
  ASSERT_TRUE(write_file_atomic(zdot + "/.zshrc", "autoload -Uz compinit && compinit -u -d " + shell_quote(zdot + "/dump") +
                                                      "\nsource " + shell_quote(script_path("_ctr")) +
                                                      "\nPROMPT='READY> '\n"));
  TmuxZsh tmux(d);
  auto started = tmux.tmux("new-session -d -s ctrz -x 200 -y 40 " +
                           shell_quote("env " + env_prefix() + "ZDOTDIR=" + shell_quote(zdot) + " zsh -i"));
  ASSERT_EQ(started.code, 0) << started.describe();
  // capture-pane drops trailing blanks: look for the prompt without its space.
  std::string screen = tmux.wait_for("READY>");
  ASSERT_NE(screen.find("READY>"), std::string::npos)
      << "zsh did not start in tmux: " << screen << tmux.tmux("list-sessions").describe();
  // A unique match is inserted: `ctr comp<TAB>` becomes `ctr completion `.
  (void)tmux.tmux("send-keys -t ctrz 'ctr comp' Tab");
  screen = tmux.wait_for("ctr completion");
  EXPECT_NE(screen.find("READY> ctr completion"), std::string::npos) << screen;
  (void)tmux.tmux("send-keys -t ctrz C-u 'ctr --storage-driver ' Tab");
  screen = tmux.wait_for("fuse-overlayfs");
  EXPECT_NE(screen.find("fuse-overlayfs"), std::string::npos) << screen;
  EXPECT_NE(screen.find("vfs"), std::string::npos) << screen;
  (void)tmux.tmux("send-keys -t ctrz C-u 'ctr rmi localhost/comp' Tab");
  screen = tmux.wait_for("ctr rmi localhost/comptest:1.0");
  EXPECT_NE(screen.find("ctr rmi localhost/comptest:1.0"), std::string::npos) << screen;
}

}  // namespace
}  // namespace ctr::itest
