// Runs in the project file: exact round trips (every float compared bit for
// bit), models, prompts and references, the trash with undo, asynchronous
// reads and export, concurrent writers and readers, Save As, drafts and
// unclean-exit detection, and a speed sanity check.
#include "support/project_fixtures.h"

using namespace glassbox::projects::testsupport;

class TestProjectRuns : public QObject {
    Q_OBJECT

private slots:
    void init() { m_dir = glassbox::testing::makeTempDir("gb-project"); }
    void cleanup() {
        std::error_code ec;
        fs::permissions(m_dir, fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(m_dir, ec);
    }

    void runRoundTripExact();
    void modelsPromptsAndReferences();
    void trashAndUndo();
    void asyncReadsAndExport();
    void concurrentWritersAndReaders();
    void saveAsIndependentCopy();
    void draftsAndUncleanExit();
    void performance();

private:
    std::string file(const char* name) const { return m_dir + "/" + name; }
    std::string m_dir;
};

void TestProjectRuns::runRoundTripExact() {
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

void TestProjectRuns::modelsPromptsAndReferences() {
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

void TestProjectRuns::trashAndUndo() {
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

void TestProjectRuns::asyncReadsAndExport() {
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

void TestProjectRuns::concurrentWritersAndReaders() {
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

void TestProjectRuns::saveAsIndependentCopy() {
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

void TestProjectRuns::draftsAndUncleanExit() {
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

void TestProjectRuns::performance() {
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

QTEST_GUILESS_MAIN(TestProjectRuns)
#include "tst_project_runs.moc"
