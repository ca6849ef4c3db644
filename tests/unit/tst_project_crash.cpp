// Crash safety of the project file: a child process writes runs through the
// store and is killed with SIGKILL in the middle of writing a large run; the
// parent then reopens the file and checks that it is intact, that every run
// committed before is there bit for bit, that the run being written is
// either complete or absent, that the unclean exit is detected and that the
// autosaved draft survived. Repeated with different kill delays.
#include <QtTest>

#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "projects/project_store.h"
#include "support/test_paths.h"

using namespace glassbox;
using namespace glassbox::projects;
namespace fs = std::filesystem;

namespace {

constexpr int kCompleteRuns = 5;
constexpr int kBigRunTokens = 3000;
const char* const kDraftKey = "prompt/unsaved";
const char* const kDraftText = "a prompt that was being typed when the program died";

// A deterministic run; `label` records how it was made so the parent can rebuild it.
RunRecord makeRun(uint32_t seed, int tokens, int candidates) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> logit(-30.0f, 10.0f);
    RunRecord run;
    run.settings.seed = seed;
    run.settings.captureStages = candidates > 0;
    run.seed = seed;
    run.promptTokens = {1, 2, 3, int32_t(seed)};
    run.outputText = "run " + std::to_string(seed);
    run.createdAt = 1700000000000 + seed;
    run.label = std::to_string(seed) + " " + std::to_string(tokens) + " " + std::to_string(candidates);
    for (int i = 0; i < tokens; ++i) {
        engine::GeneratedToken t;
        t.index = i;
        t.id = int32_t(rng() % 49152);
        t.text = std::to_string(i % 1000);
        t.sample.token = t.id;
        t.sample.logprob = logit(rng);
        t.sample.probability = logit(rng) / -30.0f;
        for (int a = 0; a < 5; ++a) t.sample.topAlternatives.push_back({int32_t(rng() % 49152), logit(rng)});
        if (candidates > 0) {
            t.sample.hasStages = true;
            for (size_t k = 0; k < engine::kSamplerStageCount; ++k) {
                engine::SamplerStage& st = t.sample.stages.stages[k];
                st.kind = engine::SamplerStageKind(k);
                st.active = true;
                st.survivors = int64_t(rng() % 49152);
                for (int c = 0; c < candidates; ++c) st.top.push_back({int32_t(rng()), logit(rng), logit(rng)});
            }
        }
        run.tokens.push_back(std::move(t));
    }
    return run;
}

// Labels are "seed tokens candidates", optionally followed by " #copy".
RunRecord rebuildFromLabel(const std::string& label) {
    uint32_t seed = 0;
    int tokens = 0, candidates = 0;
    std::sscanf(label.c_str(), "%u %d %d", &seed, &tokens, &candidates);
    RunRecord run = makeRun(seed, tokens, candidates);
    run.label = label;
    return run;
}

// Kills that landed while a write was queued or being committed.
int g_killsMidWrite = 0;

bool sameBits(float a, float b) { return std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b); }

// Same tokens, floats bit for bit (the full comparison lives in tst_project_store).
bool sameRun(const RunRecord& a, const RunRecord& b) {
    if (a.label != b.label || a.seed != b.seed || a.promptTokens != b.promptTokens ||
        a.outputText != b.outputText || a.createdAt != b.createdAt || a.tokens.size() != b.tokens.size())
        return false;
    for (size_t i = 0; i < a.tokens.size(); ++i) {
        const engine::SampleResult &x = a.tokens[i].sample, &y = b.tokens[i].sample;
        if (a.tokens[i].id != b.tokens[i].id || a.tokens[i].text != b.tokens[i].text ||
            !sameBits(x.logprob, y.logprob) || !sameBits(x.probability, y.probability) ||
            x.topAlternatives.size() != y.topAlternatives.size() || x.hasStages != y.hasStages)
            return false;
        for (size_t k = 0; k < x.topAlternatives.size(); ++k)
            if (x.topAlternatives[k].id != y.topAlternatives[k].id ||
                !sameBits(x.topAlternatives[k].logprob, y.topAlternatives[k].logprob))
                return false;
        for (size_t s = 0; x.hasStages && s < engine::kSamplerStageCount; ++s) {
            const auto &p = x.stages.stages[s], &q = y.stages.stages[s];
            if (p.survivors != q.survivors || p.top.size() != q.top.size()) return false;
            for (size_t c = 0; c < p.top.size(); ++c)
                if (p.top[c].id != q.top[c].id || !sameBits(p.top[c].logit, q.top[c].logit) ||
                    !sameBits(p.top[c].prob, q.top[c].prob))
                    return false;
        }
    }
    return true;
}

// The child: commit the complete runs and the draft, say so ('R'), then
// write copies of a big run until killed, reporting each write as it is
// queued ('B') and once it is committed ('C'). Never returns.
[[noreturn]] void childWrites(const std::string& path, int fd) {
    auto store = ProjectStore::create(path);
    if (!store.ok()) _exit(10);
    for (int i = 0; i < kCompleteRuns; ++i)
        if (!(*store)->insertRun(makeRun(uint32_t(i), 200, 4)).get().ok()) _exit(11);
    if (!(*store)->saveDraft(kDraftKey, kDraftText).get().ok()) _exit(12);
    const RunRecord big = makeRun(1000, kBigRunTokens, 16);
    if (::write(fd, "R", 1) != 1) _exit(13);
    for (int copy = 0; copy < 2000; ++copy) {
        RunRecord run = big;
        run.label += " #" + std::to_string(copy);
        if (::write(fd, "B", 1) != 1) _exit(13);
        if (!(*store)->insertRun(std::move(run)).get().ok()) _exit(14);
        if (::write(fd, "C", 1) != 1) _exit(13);
    }
    _exit(15);  // never killed: give up rather than hang
}

std::string integrityCheck(const std::string& path) {
    sqlite3* db = nullptr;
    std::string out = "cannot open";
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
        sqlite3_stmt* stmt = nullptr;
        out = "cannot run";
        if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr) == SQLITE_OK &&
            sqlite3_step(stmt) == SQLITE_ROW)
            out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
        sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
    return out;
}

}  // namespace

class TestProjectCrash : public QObject {
    Q_OBJECT

private slots:
    void killedMidWrite_data();
    void killedMidWrite();
    void someKillsLandedMidWrite();
};

void TestProjectCrash::killedMidWrite_data() {
    QTest::addColumn<int>("delayMs");
    for (int delay : {0, 3, 15, 40, 90, 160, 300, 700}) QTest::addRow("kill after %d ms", delay) << delay;
    std::random_device rd;
    QTest::addRow("kill after a random delay") << int(rd() % 250);
}

void TestProjectCrash::killedMidWrite() {
    QFETCH(int, delayMs);
    const std::string dir = glassbox::testing::makeTempDir("gb-crash");
    const std::string path = dir + "/crash.glassbox";

    int fds[2];
    QCOMPARE(pipe(fds), 0);
    const pid_t pid = fork();
    QVERIFY(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        childWrites(path, fds[1]);
    }
    close(fds[1]);
    pollfd ready{fds[0], POLLIN, 0};
    const bool signalled = poll(&ready, 1, 60000) == 1;
    char byte = 0;
    const bool readOk = signalled && read(fds[0], &byte, 1) == 1 && byte == 'R';
    std::this_thread::sleep_for(std::chrono::milliseconds(delayMs));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    std::string events;
    char buf[256];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) events.append(buf, size_t(n));
    close(fds[0]);
    const bool midWrite = !events.empty() && events.back() == 'B';
    g_killsMidWrite += midWrite;
    const auto committed = std::count(events.begin(), events.end(), 'C');
    QVERIFY2(readOk, "the child did not finish its first runs");
    QVERIFY2(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
             ("the child exited by itself with status " + std::to_string(WEXITSTATUS(status))).c_str());

    QCOMPARE(integrityCheck(path), std::string("ok"));
    auto opened = ProjectStore::open(path);
    QVERIFY2(opened.ok(), opened.ok() ? "" : opened.error().toString().c_str());
    ProjectStore& store = **opened;
    QVERIFY(store.hadUncleanExit());
    auto drafts = store.drafts();
    QVERIFY(drafts.ok() && drafts->size() == 1);
    QCOMPARE(drafts->front().key, std::string(kDraftKey));
    QCOMPARE(drafts->front().text, std::string(kDraftText));

    RunFilter oldestFirst;
    oldestFirst.newestFirst = false;
    auto runs = store.listRuns(oldestFirst);
    QVERIFY(runs.ok());
    QVERIFY(runs->size() >= size_t(kCompleteRuns));
    int extra = 0;
    for (const RunSummary& summary : *runs) {
        auto run = store.loadRun(summary.id);
        QVERIFY2(run.ok(), run.ok() ? "" : run.error().toString().c_str());  // never a partial run
        QVERIFY2(sameRun(*run, rebuildFromLabel(run->label)), ("run differs: " + run->label).c_str());
        extra += summary.id > kCompleteRuns;
    }
    for (int i = 0; i < kCompleteRuns; ++i)
        QCOMPARE((*runs)[size_t(i)].label, std::to_string(i) + " 200 4");
    qInfo("killed after %d ms (%s): %d big runs committed, %d found after the first %d, all complete", delayMs,
          midWrite ? "while writing a run" : "between writes", int(committed), extra, kCompleteRuns);
    QVERIFY(extra == committed || extra == committed + 1);  // the one in flight may have committed
    QVERIFY(store.close().ok());
    QVERIFY(!ProjectStore::open(path).value()->hadUncleanExit());
    std::error_code ec;
    fs::remove_all(dir, ec);
}

void TestProjectCrash::someKillsLandedMidWrite() {
    qInfo("%d kills landed while a run was being written", g_killsMidWrite);
    QVERIFY(g_killsMidWrite >= 1);
}

QTEST_GUILESS_MAIN(TestProjectCrash)
#include "tst_project_crash.moc"
