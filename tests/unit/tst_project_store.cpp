// The project file: creating, opening and validating it (foreign, random,
// truncated, damaged and newer files; read-only folders), schema migration,
// exact round trips of runs (every float compared bit for bit), damaged
// BLOBs, concurrent writers and readers, Save As, a full disk, drafts and
// unclean-exit detection, the trash, and a speed sanity check.
#include <QtTest>

#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <thread>

#include "engine/json.h"
#include "projects/project_schema.h"
#include "projects/project_store.h"
#include "projects/token_blobs.h"
#include "support/test_paths.h"

using namespace glassbox;
using namespace glassbox::projects;
using engine::ErrorCode;
namespace fs = std::filesystem;

namespace {

bool sameBits(float a, float b) { return std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b); }
bool sameBits(double a, double b) { return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b); }

// A deterministic run with awkward values: -0.0, -inf, denormals, NaNs with
// payloads (in the BLOBs), extreme ids, multi-byte text.
RunRecord makeRun(uint32_t seed, int tokens, int alternatives, bool stages, int candidates = 8) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> logit(-30.0f, 10.0f);
    RunRecord run;
    engine::SamplerSettings& s = run.settings;
    s.temperature = 0.7f;
    s.topK = 50;
    s.topP = 0.9f;
    s.minP = 0.02f;
    s.repeatPenalty = 1.1f;
    s.presencePenalty = -0.5f;
    s.frequencyPenalty = 0.3f;
    s.penaltyLastN = -1;
    s.seed = engine::SamplerSettings::kRandomSeed;
    s.maxTokens = tokens;
    s.stopStrings = {"\n\n", "</s>", "quote\"back\\slash", "\xC3\xBCnic\xC3\xB8" "de"};
    s.topLogprobs = alternatives;
    s.captureStages = stages;
    s.stageCandidates = candidates;
    run.seed = 0x8000000000000005ull + seed;
    run.promptText = "Once upon a time, \xE2\x80\x9Cquoted\xE2\x80\x9D";
    run.promptTokens = {1, 0, -1, INT32_MAX, INT32_MIN, 42};
    run.outputText = "output of run " + std::to_string(seed) + " \xF0\x9F\x99\x82";
    run.stopReason = engine::StopReason::StopString;
    run.prefillSeconds = 0.1 + seed;
    run.decodeSeconds = 1.0 / 3.0;
    run.prefillTokensPerSecond = 1234.5;
    run.decodeTokensPerSecond = 0.0;  // timings are REAL columns: -0.0 would read back as 0.0
    run.reusedPromptTokens = 3;
    run.engineVersion = "0.1.0-test";
    run.hardware = "CPU: test machine, 16 threads";
    run.createdAt = 1700000000000 + seed;
    run.label = "run " + std::to_string(seed);
    run.notes = "notes\nwith lines";
    run.compareGroup = int64_t(seed % 3);
    for (int i = 0; i < tokens; ++i) {
        engine::GeneratedToken t;
        t.index = i;
        t.id = int32_t(rng() % 49152);
        if (i % 7 != 0) {
            t.text = "t";
            t.text += std::to_string(i);
            if (i % 5 == 0) t.text += "\xC3\xA9";
        }
        t.sample.token = t.id;
        const float specials[] = {-0.0f, -std::numeric_limits<float>::infinity(), 1e-45f, -3.4e38f};
        t.sample.logprob = i % 50 < 4 ? specials[i % 50] : logit(rng);
        t.sample.probability = i % 50 == 5 ? 0.0f : std::exp(std::min(0.0f, logit(rng)));
        t.sample.greedy = i % 3 == 0;
        for (int a = 0; a < alternatives; ++a) {
            const float lp = (i + a) % 37 == 0 ? std::bit_cast<float>(0x7FA00001u) : logit(rng);
            t.sample.topAlternatives.push_back({int32_t(rng()), lp});
        }
        if (stages) {
            t.sample.hasStages = true;
            for (size_t k = 0; k < engine::kSamplerStageCount; ++k) {
                engine::SamplerStage& st = t.sample.stages.stages[k];
                st.kind = engine::SamplerStageKind(k);
                st.active = k % 2 == 0;
                st.survivors = int64_t(49152 - 1000 * k);
                for (int c = 0; c < candidates; ++c)
                    st.top.push_back({int32_t(rng() % 49152), logit(rng), c == 0 ? -0.0f : logit(rng) / -30.0f});
            }
        }
        run.tokens.push_back(std::move(t));
    }
    return run;
}

// The first difference between two runs, or an empty string.
std::string diffRuns(const RunRecord& a, const RunRecord& b) {
    const engine::SamplerSettings &x = a.settings, &y = b.settings;
    if (!sameBits(x.temperature, y.temperature) || x.topK != y.topK || !sameBits(x.topP, y.topP) ||
        !sameBits(x.minP, y.minP) || !sameBits(x.repeatPenalty, y.repeatPenalty) ||
        !sameBits(x.presencePenalty, y.presencePenalty) || !sameBits(x.frequencyPenalty, y.frequencyPenalty) ||
        x.penaltyLastN != y.penaltyLastN || x.seed != y.seed || x.maxTokens != y.maxTokens ||
        x.stopStrings != y.stopStrings || x.topLogprobs != y.topLogprobs || x.captureStages != y.captureStages ||
        x.stageCandidates != y.stageCandidates)
        return "settings";
    if (a.id != b.id || a.promptId != b.promptId || a.modelId != b.modelId || a.parentRunId != b.parentRunId ||
        a.branchTokenIndex != b.branchTokenIndex || a.compareGroup != b.compareGroup || a.deleted != b.deleted)
        return "ids";
    if (a.seed != b.seed || a.promptText != b.promptText || a.promptTokens != b.promptTokens ||
        a.outputText != b.outputText || a.stopReason != b.stopReason)
        return "prompt/output";
    if (!sameBits(a.prefillSeconds, b.prefillSeconds) || !sameBits(a.decodeSeconds, b.decodeSeconds) ||
        !sameBits(a.prefillTokensPerSecond, b.prefillTokensPerSecond) ||
        !sameBits(a.decodeTokensPerSecond, b.decodeTokensPerSecond) || a.reusedPromptTokens != b.reusedPromptTokens)
        return "timings";
    if (a.engineVersion != b.engineVersion || a.hardware != b.hardware || a.createdAt != b.createdAt ||
        a.label != b.label || a.notes != b.notes)
        return "metadata";
    if (a.tokens.size() != b.tokens.size()) return "token count";
    for (size_t i = 0; i < a.tokens.size(); ++i) {
        const auto &t = a.tokens[i], &u = b.tokens[i];
        const std::string at = "token " + std::to_string(i) + ": ";
        if (t.index != u.index || t.id != u.id || t.text != u.text || t.sample.token != u.sample.token ||
            t.sample.greedy != u.sample.greedy)
            return at + "id/text";
        if (!sameBits(t.sample.logprob, u.sample.logprob) || !sameBits(t.sample.probability, u.sample.probability))
            return at + "logprob/probability";
        if (t.sample.topAlternatives.size() != u.sample.topAlternatives.size()) return at + "alternative count";
        for (size_t k = 0; k < t.sample.topAlternatives.size(); ++k)
            if (t.sample.topAlternatives[k].id != u.sample.topAlternatives[k].id ||
                !sameBits(t.sample.topAlternatives[k].logprob, u.sample.topAlternatives[k].logprob))
                return at + "alternative " + std::to_string(k);
        if (t.sample.hasStages != u.sample.hasStages) return at + "hasStages";
        if (!t.sample.hasStages) continue;
        for (size_t k = 0; k < engine::kSamplerStageCount; ++k) {
            const auto &p = t.sample.stages.stages[k], &q = u.sample.stages.stages[k];
            if (p.kind != q.kind || p.active != q.active || p.survivors != q.survivors || p.top.size() != q.top.size())
                return at + "stage " + std::to_string(k);
            for (size_t c = 0; c < p.top.size(); ++c)
                if (p.top[c].id != q.top[c].id || !sameBits(p.top[c].logit, q.top[c].logit) ||
                    !sameBits(p.top[c].prob, q.top[c].prob))
                    return at + "stage " + std::to_string(k) + " candidate " + std::to_string(c);
        }
    }
    return {};
}

// The tables of file version 1, as the first release created them.
constexpr const char* kVersion1Schema = R"sql(
CREATE TABLE models (id INTEGER PRIMARY KEY, path TEXT NOT NULL, file_bytes INTEGER NOT NULL DEFAULT 0,
  sha256 TEXT NOT NULL DEFAULT '', architecture TEXT NOT NULL DEFAULT '', display_name TEXT NOT NULL DEFAULT '',
  added_at INTEGER NOT NULL, UNIQUE (path, sha256));
CREATE TABLE prompts (id INTEGER PRIMARY KEY, title TEXT NOT NULL DEFAULT '',
  mode TEXT NOT NULL CHECK (mode IN ('completion', 'chat')), system_prompt TEXT NOT NULL DEFAULT '',
  content TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE runs (id INTEGER PRIMARY KEY, prompt_id INTEGER REFERENCES prompts(id) ON DELETE SET NULL,
  model_id INTEGER REFERENCES models(id) ON DELETE SET NULL,
  parent_run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL, branch_token_index INTEGER NOT NULL DEFAULT -1,
  settings_json TEXT NOT NULL, seed INTEGER NOT NULL, prompt_text TEXT NOT NULL DEFAULT '',
  prompt_tokens BLOB NOT NULL, output_text TEXT NOT NULL DEFAULT '', stop_reason TEXT NOT NULL,
  token_count INTEGER NOT NULL DEFAULT 0, prefill_seconds REAL, decode_seconds REAL,
  prefill_tokens_per_second REAL, decode_tokens_per_second REAL, reused_prompt_tokens INTEGER NOT NULL DEFAULT 0,
  engine_version TEXT NOT NULL DEFAULT '', hardware TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL,
  label TEXT NOT NULL DEFAULT '');
CREATE INDEX runs_by_prompt ON runs (prompt_id, created_at);
CREATE INDEX runs_by_model ON runs (model_id, created_at);
CREATE TABLE run_tokens (run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, idx INTEGER NOT NULL,
  token_id INTEGER NOT NULL, text TEXT NOT NULL, logprob, probability, flags INTEGER NOT NULL DEFAULT 0,
  alternatives BLOB, PRIMARY KEY (run_id, idx));
CREATE TABLE drafts (key TEXT PRIMARY KEY, text TEXT NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT);
)sql";

// Run SQL on a file with a plain SQLite connection (no Glassbox checks).
std::string rawExec(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    std::string message = rc == SQLITE_OK ? std::string() : std::string(err ? err : "error");
    sqlite3_free(err);
    sqlite3_close(db);
    return message;
}

std::string rawQuery(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* stmt = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
        out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
}

std::unique_ptr<ProjectStore> mustCreate(const std::string& path) {
    auto store = ProjectStore::create(path);
    if (!store.ok()) qFatal("create failed: %s", store.error().toString().c_str());
    return std::move(store).value();
}

std::unique_ptr<ProjectStore> mustOpen(const std::string& path) {
    auto store = ProjectStore::open(path);
    if (!store.ok()) qFatal("open failed: %s", store.error().toString().c_str());
    return std::move(store).value();
}

int64_t mustInsert(ProjectStore& store, RunRecord run) {
    auto id = store.insertRun(std::move(run)).get();
    if (!id.ok()) qFatal("insertRun failed: %s", id.error().toString().c_str());
    return *id;
}

void writeFile(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(bytes.size()));
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

#define QCOMPARE_RUNS(actual, expected)                        \
    do {                                                       \
        const std::string diff_ = diffRuns(actual, expected);  \
        QVERIFY2(diff_.empty(), ("runs differ: " + diff_).c_str()); \
    } while (0)

class TestProjectStore : public QObject {
    Q_OBJECT

private slots:
    void init() { m_dir = glassbox::testing::makeTempDir("gb-project"); }
    void cleanup() {
        std::error_code ec;
        fs::permissions(m_dir, fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(m_dir, ec);
    }

    void createOpenReopen();
    void identityPragmas();
    void migrationFromVersion1();
    void foreignSqliteRejected();
    void randomBytesRejected();
    void truncatedRejected();
    void damagedRejected();
    void newerVersionRejected();
    void readOnlyLocation();
    void runRoundTripExact();
    void modelsPromptsAndReferences();
    void trashAndUndo();
    void asyncReadsAndExport();
    void concurrentWritersAndReaders();
    void saveAsIndependentCopy();
    void fullDisk();
    void corruptBlobs();
    void blobDecodersNeverCrash();
    void draftsAndUncleanExit();
    void writesAfterClose();
    void performance();

private:
    std::string file(const char* name) const { return m_dir + "/" + name; }
    std::string m_dir;
};

void TestProjectStore::createOpenReopen() {
    const std::string path = file("a.glassbox");
    {
        auto store = mustCreate(path);
        QVERIFY(!store->hadUncleanExit());
        QCOMPARE(store->path(), path);
        QVERIFY(store->listRuns()->empty());
        QVERIFY(store->close().ok());
    }
    QVERIFY(fs::exists(path));
    QVERIFY(!fs::exists(path + "-wal"));  // closed cleanly: log checkpointed and removed
    auto again = ProjectStore::create(path);
    QVERIFY(!again.ok());
    QCOMPARE(again.error().field, std::string("path"));
    for (int i = 0; i < 2; ++i) {
        auto store = mustOpen(path);
        QVERIFY(!store->hadUncleanExit());
        QCOMPARE(store->upgradedFrom(), 0);
        mustInsert(*store, makeRun(uint32_t(i), 3, 2, false));
    }
    QCOMPARE(mustOpen(path)->listRuns()->size(), size_t(2));
    auto missing = ProjectStore::open(file("missing.glassbox"));
    QCOMPARE(missing.error().code, ErrorCode::NotFound);
    auto noFolder = ProjectStore::create(file("no/such/folder/x.glassbox"));
    QCOMPARE(noFolder.error().code, ErrorCode::NotFound);
}

void TestProjectStore::identityPragmas() {
    const std::string path = file("id.glassbox");
    QVERIFY(mustCreate(path)->close().ok());
    QCOMPARE(rawQuery(path, "PRAGMA application_id"), std::to_string(0x47427831));
    QCOMPARE(rawQuery(path, "PRAGMA user_version"), std::to_string(kSchemaVersion));
    QCOMPARE(rawQuery(path, "PRAGMA journal_mode"), std::string("wal"));
    QCOMPARE(rawQuery(path, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"), std::string("6"));
    QCOMPARE(int(migrations().size()), kSchemaVersion);
    for (size_t i = 0; i < migrations().size(); ++i) QCOMPARE(migrations()[i].toVersion, int(i + 1));
}

void TestProjectStore::migrationFromVersion1() {
    // A file as the first Glassbox release wrote it.
    const std::string path = file("v1.glassbox");
    const std::string v1 = std::string("PRAGMA application_id = ") + std::to_string(kApplicationId) + ";" +
                           kVersion1Schema +
                           "PRAGMA user_version = 1; PRAGMA journal_mode = WAL;"
                           "INSERT INTO prompts VALUES (1, 'old', 'completion', '', 'Hello', 5, 6);"
                           "INSERT INTO runs (id, prompt_id, settings_json, seed, prompt_tokens, output_text, "
                           "stop_reason, token_count, created_at, label) VALUES (1, 1, '{\"topK\":7}', 9, "
                           "x'0100000002000000', ' world', 'max_tokens', 1, 10, 'v1 run');"
                           "INSERT INTO run_tokens VALUES (1, 0, 995, ' world', -0.5, 0.25, 1, NULL);";
    QCOMPARE(rawExec(path, v1), std::string());

    auto store = mustOpen(path);
    QCOMPARE(store->upgradedFrom(), 1);
    QCOMPARE(rawQuery(path, "PRAGMA user_version"), std::to_string(kSchemaVersion));
    auto old = store->loadRun(1);
    QVERIFY2(old.ok(), old.ok() ? "" : old.error().toString().c_str());
    QCOMPARE(old->settings.topK, 7);
    QCOMPARE(old->settings.temperature, engine::SamplerSettings{}.temperature);  // default for a missing field
    QCOMPARE(old->promptTokens, (std::vector<int32_t>{1, 2}));
    QCOMPARE(old->tokens.size(), size_t(1));
    QCOMPARE(old->tokens[0].sample.logprob, -0.5f);
    QVERIFY(old->tokens[0].sample.greedy);
    QVERIFY(!old->tokens[0].sample.hasStages);
    QVERIFY(old->notes.empty() && !old->compareGroup && !old->deleted);
    QCOMPARE(store->loadPrompt(1)->content, std::string("Hello"));

    RunRecord fresh = makeRun(11, 4, 3, true);
    fresh.promptId = 1;
    fresh.parentRunId = 1;
    fresh.branchTokenIndex = 0;
    fresh.id = mustInsert(*store, fresh);
    QCOMPARE_RUNS(*store->loadRun(fresh.id), fresh);
    QVERIFY(store->close().ok());
    QCOMPARE(mustOpen(path)->upgradedFrom(), 0);
}

void TestProjectStore::foreignSqliteRejected() {
    const std::string path = file("foreign.db");
    QCOMPARE(rawExec(path, "CREATE TABLE t (x); INSERT INTO t VALUES (1);"), std::string());
    auto r = ProjectStore::open(path);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::Unsupported);
    QCOMPARE(r.error().field, std::string("application_id"));
    QVERIFY(r.error().message.find("not a Glassbox project") != std::string::npos);

    const std::string other = file("other.db");
    QCOMPARE(rawExec(other, "PRAGMA application_id = 1234; CREATE TABLE t (x);"), std::string());
    auto r2 = ProjectStore::open(other);
    QCOMPARE(r2.error().field, std::string("application_id"));
    QVERIFY(r2.error().message.find("0x000004D2") != std::string::npos);
}

void TestProjectStore::randomBytesRejected() {
    std::mt19937 rng(7);
    std::string noise(8192, '\0');
    for (char& c : noise) c = char(rng());
    const std::pair<const char*, std::string> cases[] = {
        {"random.glassbox", noise}, {"empty.glassbox", ""}, {"text.glassbox", "hello, I am a text file\n"},
        {"short.glassbox", "SQLite"}};
    for (const auto& [name, bytes] : cases) {
        writeFile(file(name), bytes);
        auto r = ProjectStore::open(file(name));
        QVERIFY2(!r.ok(), name);
        QCOMPARE(r.error().code, ErrorCode::Malformed);
        QCOMPARE(r.error().field, std::string("header"));
        QVERIFY2(r.error().message.find("not a Glassbox project") != std::string::npos, r.error().message.c_str());
    }
}

void TestProjectStore::truncatedRejected() {
    const std::string path = file("t.glassbox");
    {
        auto store = mustCreate(path);
        for (uint32_t i = 0; i < 5; ++i) mustInsert(*store, makeRun(i, 200, 5, true));
    }
    const std::string bytes = readFile(path);
    QVERIFY(bytes.size() > 64 * 1024);
    for (size_t keep : {size_t(50), size_t(4096) * 3, bytes.size() / 2, bytes.size() / 2 + 100}) {
        const std::string cut = file("cut.glassbox");
        writeFile(cut, bytes.substr(0, keep));
        auto r = ProjectStore::open(cut);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, ErrorCode::Truncated);
        QVERIFY2(r.error().message.find("truncated") != std::string::npos, r.error().message.c_str());
    }
}

void TestProjectStore::damagedRejected() {
    const std::string path = file("d.glassbox");
    {
        auto store = mustCreate(path);
        for (uint32_t i = 0; i < 5; ++i) mustInsert(*store, makeRun(i, 200, 5, true));
    }
    std::string bytes = readFile(path);
    // Scribble over a run of pages in the middle (b-tree pages become garbage).
    std::mt19937 rng(3);
    for (size_t i = bytes.size() / 3; i < bytes.size() / 3 + 4096 * 4; ++i) bytes[i] = char(rng());
    writeFile(path, bytes);
    auto r = ProjectStore::open(path);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::Malformed);
    QVERIFY2(r.error().message.find("damaged") != std::string::npos, r.error().toString().c_str());
}

void TestProjectStore::newerVersionRejected() {
    const std::string path = file("new.glassbox");
    QVERIFY(mustCreate(path)->close().ok());
    QCOMPARE(rawExec(path, "PRAGMA user_version = 99"), std::string());
    for (auto mode : {ProjectStore::OpenMode::ReadWrite, ProjectStore::OpenMode::ReadOnly}) {
        auto r = ProjectStore::open(path, mode);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, ErrorCode::Unsupported);
        QCOMPARE(r.error().field, std::string("user_version"));
        QVERIFY(r.error().message.find("newer Glassbox") != std::string::npos);
    }
}

void TestProjectStore::readOnlyLocation() {
    // Folder permissions mean nothing to root: the checks run in a child
    // process that drops to an unprivileged user when needed.
    const std::string folder = m_dir + "/ro";
    fs::create_directory(folder);
    const std::string existing = folder + "/existing.glassbox";
    {
        auto store = mustCreate(existing);
        mustInsert(*store, makeRun(1, 10, 2, true));
    }
    fs::permissions(m_dir, fs::perms::all, fs::perm_options::add);  // reachable by the child
    fs::permissions(folder, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
    int fds[2];
    QCOMPARE(pipe(fds), 0);
    const pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(2);
        std::string report;
        auto created = ProjectStore::create(folder + "/new.glassbox");
        report += created.ok() ? "create:ok\n" : "create:" + created.error().toString() + "\n";
        auto rw = ProjectStore::open(existing);
        report += rw.ok() ? "openrw:ok\n" : "openrw:" + rw.error().toString() + "\n";
        auto ro = ProjectStore::open(existing, ProjectStore::OpenMode::ReadOnly);
        if (ro.ok()) {
            auto runs = (*ro)->listRuns();
            auto run = runs.ok() && runs->size() == 1 ? (*ro)->loadRun(runs->front().id) : engine::Result<RunRecord>(
                engine::makeError(ErrorCode::NotFound, "no run"));
            report += run.ok() && run->tokens.size() == 10 ? "read:ok\n" : "read:failed\n";
            auto write = (*ro)->saveDraft("k", "v").get();
            report += write.ok() ? "write:ok\n" : "write:" + write.error().field + "\n";
        } else {
            report += "openro:" + ro.error().toString() + "\n";
        }
        (void)!::write(fds[1], report.data(), report.size());
        _exit(0);
    }
    close(fds[1]);
    std::string report;
    char buf[512];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) report.append(buf, size_t(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    QVERIFY(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    qInfo("%s", report.c_str());
    QVERIFY(report.find("create:Io: cannot create the project at") != std::string::npos);
    QVERIFY(report.find("read-only") != std::string::npos);
    QVERIFY(report.find("openrw:Io") != std::string::npos);
    QVERIFY(report.find("read:ok") != std::string::npos);
    QVERIFY(report.find("write:SQLITE_READONLY") != std::string::npos);
    QVERIFY(!fs::exists(folder + "/new.glassbox"));
}

void TestProjectStore::runRoundTripExact() {
    auto store = mustCreate(file("exact.glassbox"));
    RunRecord run = makeRun(42, 300, 5, true, 8);
    run.id = mustInsert(*store, run);
    auto loaded = store->loadRun(run.id);
    QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().toString().c_str());
    QCOMPARE_RUNS(*loaded, run);
    QCOMPARE(loaded->tokens[0].sample.logprob, -0.0f);
    QVERIFY(std::signbit(loaded->tokens[0].sample.logprob));
    QCOMPARE(loaded->tokens[1].sample.logprob, -std::numeric_limits<float>::infinity());

    // NaN has no SQL value: stored as NULL and read back as a NaN.
    RunRecord nan = makeRun(5, 2, 0, false);
    nan.tokens[1].sample.probability = std::numeric_limits<float>::quiet_NaN();
    nan.decodeTokensPerSecond = std::numeric_limits<double>::quiet_NaN();
    nan.id = mustInsert(*store, nan);
    QVERIFY(std::isnan(store->loadRun(nan.id)->tokens[1].sample.probability));
    QVERIFY(std::isnan(store->loadRun(nan.id)->decodeTokensPerSecond));

    RunRecord empty;
    empty.settings.seed = 12345;
    empty.createdAt = 99;
    empty.engineVersion = "x";
    empty.id = mustInsert(*store, empty);
    QCOMPARE_RUNS(*store->loadRun(empty.id), empty);
    QCOMPARE(store->loadRun(9999).error().code, ErrorCode::NotFound);
}

void TestProjectStore::modelsPromptsAndReferences() {
    auto store = mustCreate(file("refs.glassbox"));
    ModelRecord model{0, "/models/a.gguf", 1234, "ab12", "llama", "A", 0};
    const int64_t modelId = *store->upsertModel(model).get();
    model.displayName = "A renamed";
    QCOMPARE(*store->upsertModel(model).get(), modelId);
    model.sha256 = "cd34";
    QVERIFY(*store->upsertModel(model).get() != modelId);
    QCOMPARE(store->models()->size(), size_t(2));
    QCOMPARE(store->loadModel(modelId)->displayName, std::string("A renamed"));

    PromptRecord prompt{0, "Chat", PromptMode::Chat, "Be brief.", R"([{"role":"user","content":"hi"}])", 0, 0};
    const int64_t promptId = *store->addPrompt(prompt).get();
    prompt.id = promptId;
    prompt.title = "Chat 2";
    QVERIFY(store->updatePrompt(prompt).get().ok());
    QCOMPARE(store->loadPrompt(promptId)->title, std::string("Chat 2"));
    QCOMPARE(store->loadPrompt(promptId)->mode, PromptMode::Chat);
    prompt.id = 777;
    QCOMPARE(store->updatePrompt(prompt).get().error().code, ErrorCode::NotFound);

    RunRecord run = makeRun(1, 3, 1, false);
    run.modelId = modelId;
    run.promptId = promptId;
    const int64_t runId = mustInsert(*store, run);
    RunRecord branch = makeRun(2, 3, 1, false);
    branch.parentRunId = runId;
    branch.branchTokenIndex = 1;
    const int64_t branchId = mustInsert(*store, branch);
    RunFilter children;
    children.parentRunId = runId;
    QCOMPARE(store->listRuns(children)->size(), size_t(1));
    QCOMPARE(store->listRuns(children)->front().id, branchId);

    RunRecord dangling = makeRun(3, 1, 0, false);
    dangling.promptId = 999;
    auto bad = store->insertRun(dangling).get();
    QCOMPARE(bad.error().code, ErrorCode::InvalidArgument);
    QCOMPARE(bad.error().field, std::string("SQLITE_CONSTRAINT"));
    QCOMPARE(store->listRuns()->size(), size_t(2));  // nothing of the failed run is left

    QVERIFY(store->setSetting("layout", "{\"panels\":3}").get().ok());
    QCOMPARE(store->setting("layout")->value_or(""), std::string("{\"panels\":3}"));
    QVERIFY(!store->setting("nothing")->has_value());
}

void TestProjectStore::trashAndUndo() {
    auto store = mustCreate(file("trash.glassbox"));
    const int64_t a = mustInsert(*store, makeRun(1, 5, 1, false));
    const int64_t b = mustInsert(*store, makeRun(2, 5, 1, false));
    QVERIFY(store->deleteRun(a).get().ok());
    QCOMPARE(store->listRuns()->size(), size_t(1));
    RunFilter trash;
    trash.trash = RunFilter::Trash::Only;
    QCOMPARE(store->listRuns(trash)->front().id, a);
    QVERIFY(store->loadRun(a)->deleted);
    QVERIFY(store->restoreRun(a).get().ok());  // undo
    QCOMPARE(store->listRuns()->size(), size_t(2));
    QVERIFY(store->deleteRun(b).get().ok());
    QCOMPARE(*store->emptyTrash().get(), int64_t(1));
    QCOMPARE(store->loadRun(b).error().code, ErrorCode::NotFound);
    QCOMPARE(store->deleteRun(b).get().error().code, ErrorCode::NotFound);
    QCOMPARE(rawQuery(store->path(), "SELECT count(*) FROM run_tokens WHERE run_id = " + std::to_string(b)),
             std::string("0"));
    QVERIFY(store->updateRunNotes(a, "best", "keep this").get().ok());
    QCOMPARE(store->loadRun(a)->notes, std::string("keep this"));
    RunFilter labelled;
    labelled.labelContains = "bes";
    QCOMPARE(store->listRuns(labelled)->size(), size_t(1));
}

void TestProjectStore::asyncReadsAndExport() {
    auto store = mustCreate(file("async.glassbox"));
    RunRecord run = makeRun(9, 20, 3, true, 4);
    run.id = mustInsert(*store, run);
    std::atomic<bool> called{false};
    auto future = store->loadRunAsync(run.id, [&](const engine::Result<RunRecord>& r) { called = r.ok(); });
    auto loaded = future.get();
    QVERIFY(called);
    QCOMPARE_RUNS(*loaded, run);
    QCOMPARE(store->listRunsAsync({}).get()->size(), size_t(1));

    auto json = store->exportRunJson(run.id);
    QVERIFY(json.ok());
    auto doc = engine::parseJson(*json);
    QVERIFY2(doc.ok(), doc.ok() ? "" : doc.error().toString().c_str());
    QCOMPARE(doc->find("tokens")->size(), size_t(20));
    QCOMPARE(std::string(*doc->find("seed")->asString()), std::to_string(run.seed));
    QCOMPARE(std::string(*doc->find("settings")->find("seed")->asString()), std::string("18446744073709551615"));
    const engine::JsonValue* token = doc->find("tokens")->at(10);
    QCOMPARE(float(*token->find("logprob")->asDouble()), run.tokens[10].sample.logprob);
    QCOMPARE(token->find("stages")->size(), engine::kSamplerStageCount);
    QVERIFY(doc->find("model")->isNull());
}

void TestProjectStore::concurrentWritersAndReaders() {
    auto store = mustCreate(file("busy.glassbox"));
    constexpr int kThreads = 4, kPerThread = 250;
    std::atomic<bool> done{false};
    std::atomic<int> reads{0}, readErrors{0};
    std::thread reader([&] {
        while (!done) {
            auto runs = store->listRuns();
            if (!runs.ok()) ++readErrors;
            else if (!runs->empty()) {
                auto run = store->loadRun(runs->front().id);
                if (!run.ok() || run->tokens.size() != 2) ++readErrors;
            }
            ++reads;
        }
    });
    std::vector<std::thread> writers;
    std::atomic<int> writeErrors{0};
    for (int t = 0; t < kThreads; ++t) {
        writers.emplace_back([&, t] {
            std::vector<std::future<engine::Result<int64_t>>> futures;
            for (int i = 0; i < kPerThread; ++i) {
                futures.push_back(store->insertRun(makeRun(uint32_t(t * 1000 + i), 2, 1, false)));
                if (i % 50 == 0) (void)store->saveDraft("thread" + std::to_string(t), std::to_string(i));
            }
            for (auto& f : futures)
                if (!f.get().ok()) ++writeErrors;
        });
    }
    for (auto& w : writers) w.join();
    done = true;
    reader.join();
    QCOMPARE(writeErrors.load(), 0);
    QCOMPARE(readErrors.load(), 0);
    QVERIFY(reads > 0);
    QCOMPARE(store->listRuns()->size(), size_t(kThreads * kPerThread));
    QCOMPARE(store->drafts()->size(), size_t(kThreads));
    qInfo("%d reads ran while 1000 runs were written", reads.load());
}

void TestProjectStore::saveAsIndependentCopy() {
    const std::string a = file("a.glassbox"), b = file("b.glassbox");
    auto store = mustCreate(a);
    RunRecord first = makeRun(1, 50, 5, true);
    first.id = mustInsert(*store, first);
    QVERIFY(store->saveDraft("prompt", "typed").get().ok());
    QCOMPARE(store->saveAs(a).get().error().code, ErrorCode::InvalidArgument);
    writeFile(b, "an old file that gets replaced");
    auto saved = store->saveAs(b).get();
    QVERIFY2(saved.ok(), saved.ok() ? "" : saved.error().toString().c_str());
    QCOMPARE(store->path(), b);
    const int64_t second = mustInsert(*store, makeRun(2, 5, 1, false));
    QCOMPARE(store->listRuns()->size(), size_t(2));
    QVERIFY(store->close().ok());

    auto original = mustOpen(a);
    QVERIFY(!original->hadUncleanExit());
    QCOMPARE(original->listRuns()->size(), size_t(1));
    QCOMPARE(original->loadRun(second).error().code, ErrorCode::NotFound);
    auto copy = mustOpen(b);
    QVERIFY(!copy->hadUncleanExit());
    QCOMPARE(copy->listRuns()->size(), size_t(2));
    QCOMPARE_RUNS(*copy->loadRun(first.id), first);
    QCOMPARE(copy->drafts()->size(), size_t(1));
    QVERIFY(!fs::exists(b + ".saving"));
}

void TestProjectStore::fullDisk() {
    const std::string path = file("full.glassbox");
    auto store = mustCreate(path);
    std::vector<RunRecord> kept;
    for (uint32_t i = 0; i < 3; ++i) {
        kept.push_back(makeRun(i, 40, 5, true));
        kept.back().id = mustInsert(*store, kept.back());
    }
    const int64_t cap = *store->setMaxPageCount(1).get();  // never below the current size
    QVERIFY(cap > 1);
    // Queue a big run between two small writes: they share a batch.
    auto before = store->saveDraft("d", "small");
    auto big = store->insertRun(makeRun(100, 2000, 5, true, 16));
    auto after = store->setSetting("k", "v");
    const auto bigResult = big.get();
    QVERIFY(!bigResult.ok());
    QCOMPARE(bigResult.error().code, ErrorCode::Io);
    QCOMPARE(bigResult.error().field, std::string("SQLITE_FULL"));
    QVERIFY2(bigResult.error().message.find("disk is full") != std::string::npos, bigResult.error().message.c_str());
    (void)before.get();
    (void)after.get();
    // The writer still runs and nothing committed was lost.
    QCOMPARE(store->listRuns()->size(), size_t(3));
    for (const RunRecord& run : kept) QCOMPARE_RUNS(*store->loadRun(run.id), run);
    QVERIFY(*store->setMaxPageCount(1 << 30).get() >= (1 << 30));
    const int64_t later = mustInsert(*store, makeRun(100, 2000, 5, true, 16));
    QVERIFY(store->close().ok());
    auto reopened = mustOpen(path);
    QCOMPARE(reopened->listRuns()->size(), size_t(4));
    QCOMPARE(reopened->loadRun(later)->tokens.size(), size_t(2000));
    QCOMPARE(rawQuery(path, "PRAGMA integrity_check"), std::string("ok"));
}

void TestProjectStore::corruptBlobs() {
    const std::string path = file("blobs.glassbox");
    int64_t id = 0;
    {
        auto store = mustCreate(path);
        id = mustInsert(*store, makeRun(1, 10, 5, true));
    }
    const std::string where = " WHERE run_id = " + std::to_string(id) + " AND idx = 3";
    const struct {
        const char* sql;
        ErrorCode code;
        const char* field;
    } cases[] = {
        {"UPDATE run_tokens SET alternatives = x'01000500000000000000'", ErrorCode::Truncated, "run_tokens.alternatives"},
        {"UPDATE run_tokens SET alternatives = x'09000000'", ErrorCode::Malformed, "run_tokens.alternatives"},
        {"UPDATE run_tokens SET alternatives = x'0100000000'", ErrorCode::Malformed, "run_tokens.alternatives"},
        {"UPDATE run_tokens SET stages = x'0107000000FFFFFFFF'", ErrorCode::Truncated, "run_tokens.stages"},
        {"UPDATE run_tokens SET stages = x'010100000900000000000000000000000000000000'", ErrorCode::Malformed,
         "run_tokens.stages"},
        {"UPDATE run_tokens SET stages = x'01010000000000000000000000000000FFFFFFFFFFFFFFFF'",
         ErrorCode::Malformed, "run_tokens.stages"},
        {"UPDATE run_tokens SET stages = randomblob(300)", ErrorCode::Malformed, ""},
        {"UPDATE runs SET prompt_tokens = x'010203'", ErrorCode::Malformed, "runs.prompt_tokens"},
        {"UPDATE runs SET settings_json = '{\"topK\": \"many\"}'", ErrorCode::Malformed, "$.topK"},
        {"UPDATE runs SET stop_reason = 'bored'", ErrorCode::Malformed, "runs.stop_reason"},
        {"DELETE FROM run_tokens", ErrorCode::Malformed, "runs.token_count"},
    };
    const std::string pristine = readFile(path);
    for (const auto& c : cases) {
        writeFile(path, pristine);
        const bool onTokens = std::string(c.sql).find("run_tokens SET") != std::string::npos;
        QCOMPARE(rawExec(path, std::string(c.sql) + (onTokens ? where : "")), std::string());
        auto store = mustOpen(path);
        auto r = store->loadRun(id);
        QVERIFY2(!r.ok(), c.sql);
        if (*c.field) QCOMPARE(r.error().field, std::string(c.field));
        if (*c.field) QCOMPARE(r.error().code, c.code);
        else QVERIFY(r.error().code == ErrorCode::Malformed || r.error().code == ErrorCode::Truncated);
        QVERIFY2(r.error().message.find("run " + std::to_string(id)) == 0, r.error().message.c_str());
        QVERIFY(store->listRuns().ok());  // the rest of the project stays usable
    }
}

void TestProjectStore::blobDecodersNeverCrash() {
    RunRecord run = makeRun(3, 1, 5, true, 6);
    const auto alternatives = *encodeAlternatives(run.tokens[0].sample.topAlternatives);
    const auto stages = *encodeStages(run.tokens[0].sample.stages);
    QCOMPARE(alternatives.size(), size_t(4 + 8 * 5));
    QCOMPARE(stages.size(), size_t(4 + 7 * (16 + 12 * 6)));
    for (size_t n = 0; n < stages.size(); ++n) {  // every truncation fails cleanly
        QVERIFY(!decodeStages(std::span(stages.data(), n), "s").ok());
        if (n < alternatives.size()) QVERIFY(!decodeAlternatives(std::span(alternatives.data(), n), "a").ok());
    }
    std::mt19937 rng(11);
    int accepted = 0;
    for (int i = 0; i < 20000; ++i) {  // random bit flips: never a crash, never a huge allocation
        std::vector<uint8_t> s = stages, a = alternatives;
        for (int f = 0; f < 3; ++f) {
            s[rng() % s.size()] ^= uint8_t(1u << (rng() % 8));
            a[rng() % a.size()] ^= uint8_t(1u << (rng() % 8));
        }
        auto ds = decodeStages(s, "s");
        auto da = decodeAlternatives(a, "a");
        accepted += ds.ok() + da.ok();
        if (!ds.ok()) QVERIFY(ds.error().offset <= s.size());
    }
    QVERIFY(accepted > 0);  // flips in float payloads are still valid blobs
    QVERIFY(!decodeTokenIds(std::vector<uint8_t>(5), "t").ok());
    QCOMPARE(decodeTokenIds({}, "t")->size(), size_t(0));
}

void TestProjectStore::draftsAndUncleanExit() {
    const std::string path = file("drafts.glassbox");
    const std::string snapshot = file("crashed.glassbox");
    {
        auto store = mustCreate(path);
        QVERIFY(store->saveDraft("prompt/1", "half-typed prompt").get().ok());
        QVERIFY(store->saveDraft("prompt/2", "other").get().ok());
        QVERIFY(store->saveDraft("prompt/1", "half-typed prompt, edited").get().ok());
        QVERIFY(store->clearDraft("prompt/2").get().ok());
        // What the disk holds if the program died right now: the file and its log.
        fs::copy_file(path, snapshot);
        fs::copy_file(path + "-wal", snapshot + "-wal");
    }
    {
        auto store = mustOpen(snapshot);
        QVERIFY(store->hadUncleanExit());
        auto drafts = store->drafts();
        QCOMPARE(drafts->size(), size_t(1));
        QCOMPARE(drafts->front().key, std::string("prompt/1"));
        QCOMPARE(drafts->front().text, std::string("half-typed prompt, edited"));
        QVERIFY(drafts->front().updatedAt > 0);
    }
    QVERIFY(!mustOpen(snapshot)->hadUncleanExit());  // that session closed cleanly
    auto store = mustOpen(path);
    QVERIFY(!store->hadUncleanExit());
    QCOMPARE(store->drafts()->size(), size_t(1));  // drafts stay until the front end clears them
}

void TestProjectStore::writesAfterClose() {
    auto store = mustCreate(file("closed.glassbox"));
    QVERIFY(store->close().ok());
    QVERIFY(store->close().ok());
    auto w = store->saveDraft("k", "v").get();
    QCOMPARE(w.error().field, std::string("closed"));
    QCOMPARE(store->listRuns().error().field, std::string("closed"));
    QCOMPARE(store->loadRunAsync(1).get().error().field, std::string("closed"));
}

void TestProjectStore::performance() {
    auto store = mustCreate(file("perf.glassbox"));
    std::vector<RunRecord> runs;
    for (uint32_t i = 0; i < 100; ++i) runs.push_back(makeRun(i, 256, 5, false));
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::future<engine::Result<int64_t>>> futures;
    for (RunRecord& r : runs) futures.push_back(store->insertRun(std::move(r)));
    std::vector<int64_t> ids;
    for (auto& f : futures) ids.push_back(*f.get());
    const auto t1 = std::chrono::steady_clock::now();
    for (int64_t id : ids) QCOMPARE(store->loadRun(id)->tokens.size(), size_t(256));
    const auto t2 = std::chrono::steady_clock::now();
    const double insertMs = std::chrono::duration<double, std::milli>(t1 - t0).count();
    const double loadMs = std::chrono::duration<double, std::milli>(t2 - t1).count();
    qInfo("insert 100 runs x 256 tokens (5 alternatives): %.1f ms; load them back: %.1f ms; file %.1f MB",
          insertMs, loadMs, double(fs::file_size(store->path()) + fs::file_size(store->path() + "-wal")) / 1e6);
    QVERIFY(insertMs < 20000);
    QVERIFY(loadMs < 20000);
}

QTEST_GUILESS_MAIN(TestProjectStore)
#include "tst_project_store.moc"
