// The project file itself: creating, opening and validating it (foreign,
// random, truncated, damaged and newer files; read-only folders), schema
// migration, a full disk, damaged BLOBs and writes after close.
#include "support/project_fixtures.h"

using namespace glassbox::projects::testsupport;

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
    void fullDisk();
    void corruptBlobs();
    void blobDecodersNeverCrash();
    void writesAfterClose();

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

void TestProjectStore::writesAfterClose() {
    auto store = mustCreate(file("closed.glassbox"));
    QVERIFY(store->close().ok());
    QVERIFY(store->close().ok());
    auto w = store->saveDraft("k", "v").get();
    QCOMPARE(w.error().field, std::string("closed"));
    QCOMPARE(store->listRuns().error().field, std::string("closed"));
    QCOMPARE(store->loadRunAsync(1).get().error().field, std::string("closed"));
}

QTEST_GUILESS_MAIN(TestProjectStore)
#include "tst_project_store.moc"
