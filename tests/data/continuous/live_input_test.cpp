// Live inputs: line cutting with a length bound, files read and followed (rotation, truncation,
// deletion), watched folders, FIFOs and the TCP listener, and their positions for a resume.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/error.h"
#include "data/continuous/line_splitter.h"
#include "data/continuous/live_input.h"
#include "support/temp_dir.h"

namespace stratum::data {
namespace {

using stratum::testing::TempDir;

// Polls `input` until it delivers a line or ends (at most `polls` x 20 ms; the default ~10 s
// lets a slow machine through and a broken input fail the test).
InputStatus next_line(LiveInput& input, InputLine& line, int polls = 500) {
  for (int i = 0; i < polls; ++i) {
    const InputStatus s = input.next(line, 0.02);
    if (s != InputStatus::idle) return s;
  }
  return InputStatus::idle;
}

std::vector<std::string> drain(LiveInput& input) {
  std::vector<std::string> lines;
  InputLine line;
  while (next_line(input, line, 15) == InputStatus::line) lines.push_back(line.problem.empty() ? line.text : "!" + line.problem);
  return lines;
}

void append(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << text;
}

TEST(LineSplitter, CutsPiecesIntoLinesAndReportsOverLongOnesOnce) {
  LineSplitter s(8);
  SplitLine line;
  s.feed("ab", 2);
  EXPECT_FALSE(s.pop(line));
  s.feed("c\r\nxyz", 6);
  ASSERT_TRUE(s.pop(line));
  EXPECT_EQ(line.text, "abc");
  EXPECT_EQ(line.bytes, 5u);
  // 30 bytes without a newline, fed in pieces: dropped as they come, reported at the newline.
  for (int i = 0; i < 3; ++i) s.feed("0123456789", 10);
  EXPECT_LE(s.pending_bytes(), 40u);
  EXPECT_FALSE(s.pop(line));
  s.feed("\nok\n", 4);
  ASSERT_TRUE(s.pop(line));
  EXPECT_NE(line.problem.find("line longer than"), std::string::npos) << line.problem;
  EXPECT_EQ(line.bytes, 3u + 30u + 1u);
  ASSERT_TRUE(s.pop(line));
  EXPECT_EQ(line.text, "ok");
  EXPECT_TRUE(line.problem.empty());
  s.feed("tail", 4);
  ASSERT_TRUE(s.pop_rest(line));
  EXPECT_EQ(line.text, "tail");
  EXPECT_EQ(line.bytes, 4u);
  EXPECT_FALSE(s.pop_rest(line));
}

TEST(FileInput, ReadsToTheEndAndResumesAfterACommittedLine) {
  TempDir dir;
  const std::string path = dir.write("a.txt", "one\ntwo\n\nthree");
  auto input = open_file_input(path, false, 1024, 0.01, nullptr);
  InputLine line;
  ASSERT_EQ(next_line(*input, line), InputStatus::line);
  EXPECT_EQ(line.text, "one");
  ASSERT_EQ(next_line(*input, line), InputStatus::line);
  EXPECT_EQ(line.text, "two");
  EXPECT_EQ(line.offset, 4u);
  EXPECT_EQ(line.line, 2u);
  const StreamPosition after_two = line.after;
  EXPECT_EQ(after_two.offset, 8u);
  EXPECT_EQ(after_two.sequence, 2u);
  EXPECT_EQ(drain(*input), (std::vector<std::string>{"", "three"}));
  EXPECT_EQ(input->next(line, 0.01), InputStatus::ended);

  auto resumed = open_file_input(path, false, 1024, 0.01, &after_two);
  ASSERT_EQ(next_line(*resumed, line), InputStatus::line);
  EXPECT_EQ(line.text, "");
  EXPECT_EQ(line.line, 3u);
  EXPECT_EQ(line.after.sequence, 3u);
  // Another file at the path: not the stream the checkpoint read.
  std::filesystem::remove(path);
  dir.write("a.txt", "other\n");
  EXPECT_THROW(open_file_input(path, false, 1024, 0.01, &after_two), UserError);
}

TEST(FileInput, FollowsAppendsRotationTruncationAndDeletion) {
  TempDir dir;
  const std::string path = dir.write("log.txt", "a\nb");
  auto input = open_file_input(path, true, 1024, 0.01, nullptr);
  InputLine line;
  ASSERT_EQ(next_line(*input, line), InputStatus::line);
  EXPECT_EQ(line.text, "a");
  // "b" has no newline yet: a followed file waits for the rest of the line.
  EXPECT_EQ(input->next(line, 0.05), InputStatus::idle);
  append(path, "c\nd\n");
  EXPECT_EQ(drain(*input), (std::vector<std::string>{"bc", "d"}));

  // Rotation: the file is renamed away (its last line unterminated) and a new one created.
  append(path, "e");
  std::filesystem::rename(path, path + ".1");
  append(path, "f\n");
  EXPECT_EQ(drain(*input), (std::vector<std::string>{"e", "f"}));

  // Truncation: read again from the start.
  { std::ofstream(path, std::ios::trunc) << ""; }
  input->next(line, 0.05);
  append(path, "g\n");
  EXPECT_EQ(drain(*input), (std::vector<std::string>{"g"}));

  // Deletion mid-line: the cut line is rejected, then the file comes back.
  append(path, "half");
  EXPECT_EQ(input->next(line, 0.05), InputStatus::idle);
  std::filesystem::remove(path);
  ASSERT_EQ(next_line(*input, line), InputStatus::line);
  EXPECT_EQ(line.problem, "line cut off: the followed file was deleted");
  append(path, "h\n");
  EXPECT_EQ(drain(*input), (std::vector<std::string>{"h"}));
}

TEST(FileInput, RefusesCompressedFilesWithAHint) {
  TempDir dir;
  const std::string path = dir.write("a.gz", std::string("\x1f\x8b\x08\x00rest", 8));
  auto input = open_file_input(path, false, 1024, 0.01, nullptr);
  InputLine line;
  try {
    input->next(line, 0.01);
    FAIL() << "read a compressed file as lines";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("zcat"), std::string::npos) << e.what();
  }
}

TEST(WatchedFolder, TakesFilesInNameOrderEachOnceAndResumesInsideOne) {
  TempDir dir;
  const std::string folder = dir.path() + "/in";
  std::filesystem::create_directory(folder);
  append(folder + "/002.txt", "c\nd\n");
  append(folder + "/001.txt", "a\nb\n");
  append(folder + "/.003.txt", "hidden\n");
  append(folder + "/004.txt.tmp", "partial\n");
  auto input = open_watched_folder(folder, 1024, 0.01, nullptr);
  InputLine line;
  std::vector<std::string> got;
  StreamPosition after_c;
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(next_line(*input, line), InputStatus::line);
    got.push_back(line.text);
    if (line.text == "c") after_c = line.after;
  }
  EXPECT_EQ(got, (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(input->next(line, 0.05), InputStatus::idle);
  // A file moved in later is taken; one that sorts before the last taken is not.
  append(folder + "/000.txt", "late\n");
  std::filesystem::rename(folder + "/004.txt.tmp", folder + "/004.txt");
  ASSERT_EQ(next_line(*input, line), InputStatus::line);
  EXPECT_EQ(line.text, "partial");
  EXPECT_EQ(line.after.sequence, 5u);
  EXPECT_EQ(input->next(line, 0.05), InputStatus::idle);

  auto resumed = open_watched_folder(folder, 1024, 0.01, &after_c);
  EXPECT_EQ(drain(*resumed), (std::vector<std::string>{"d", "partial"}));
}

TEST(PipeInput, ReadsAFifoUntilItsWriterCloses) {
  TempDir dir;
  const std::string fifo = dir.path() + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto input = open_pipe_input(fifo, 1024, nullptr);
  EXPECT_FALSE(input->replayable());
  InputLine line;
  EXPECT_EQ(input->next(line, 0.05), InputStatus::idle);  // no writer yet: waits, does not end
  std::thread writer([&] {
    std::ofstream out(fifo);
    out << "x\ny\n" << std::string(5000, 'z') << "\nlast";
  });
  EXPECT_EQ(drain(*input), (std::vector<std::string>{"x", "y", "!line longer than 1024 bytes (data.continuous.max_line_bytes)", "last"}));
  writer.join();
  EXPECT_EQ(input->next(line, 0.05), InputStatus::ended);
}

// A port nobody uses right now (the kernel's pick).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t size = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size);
  ::close(fd);
  return ntohs(a.sin_port);
}

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

void send_text(int fd, const std::string& text) { ASSERT_EQ(::send(fd, text.data(), text.size(), 0), static_cast<ssize_t>(text.size())); }

TEST(TcpInput, TakesLinesFromSeveralClientsAndRejectsBrokenOnes) {
  const int port = free_port();
  auto input = open_tcp_input(std::to_string(port), 64, nullptr);
  EXPECT_FALSE(input->replayable());
  const int a = connect_to(port);
  const int b = connect_to(port);
  send_text(a, "from a\n");
  send_text(b, std::string(200, 'x') + "\nfrom b\n");
  send_text(a, "cut off");
  ::close(a);
  std::vector<std::string> got;
  InputLine line;
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(next_line(*input, line), InputStatus::line);
    got.push_back(line.problem.empty() ? line.text : "!" + line.problem);
    EXPECT_EQ(line.after.sequence, static_cast<uint64_t>(i + 1));
  }
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"!connection closed mid-line", "!line longer than 64 bytes (data.continuous.max_line_bytes)",
                                           "from a", "from b"}));
  ::close(b);
  EXPECT_EQ(input->next(line, 0.05), InputStatus::idle);  // a listener never ends
}

TEST(TcpInput, APortInUseOrMalformedAddressIsAUserErrorNamingTheKey) {
  const int port = free_port();
  auto first = open_tcp_input("127.0.0.1:" + std::to_string(port), 64, nullptr);
  try {
    open_tcp_input("127.0.0.1:" + std::to_string(port), 64, nullptr);
    FAIL() << "listened twice on one port";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("already in use"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("data.continuous.listen"), std::string::npos) << e.what();
  }
  for (const char* bad : {"", "host:1", "127.0.0.1:0", "127.0.0.1:70000", ":", "1.2.3:80", "12ab"}) {
    EXPECT_THROW(open_tcp_input(bad, 64, nullptr), UserError) << bad;
  }
}

}  // namespace
}  // namespace stratum::data
