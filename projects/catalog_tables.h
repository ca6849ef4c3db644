// The SQL behind the smaller tables: models, prompts, drafts and settings.
// Like run_table.h, every function works on a connection the caller owns and
// inside the caller's transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/result.h"
#include "projects/project_records.h"
#include "projects/sqlite_connection.h"

namespace glassbox::projects {

// Insert the model, or update the row with the same (path, sha256); returns
// its id either way.
engine::Result<int64_t> upsertModelRow(SqliteConnection& db, const ModelRecord& model, int64_t now);
engine::Result<ModelRecord> selectModel(SqliteConnection& db, int64_t id);  // NotFound
engine::Result<std::vector<ModelRecord>> selectModels(SqliteConnection& db);

engine::Result<int64_t> insertPromptRow(SqliteConnection& db, const PromptRecord& prompt, int64_t now);
// NotFound when prompt.id does not exist.
engine::Status updatePromptRow(SqliteConnection& db, const PromptRecord& prompt, int64_t now);
engine::Result<PromptRecord> selectPrompt(SqliteConnection& db, int64_t id);  // NotFound, Malformed mode
engine::Result<std::vector<PromptRecord>> selectPrompts(SqliteConnection& db);

engine::Status upsertDraft(SqliteConnection& db, const std::string& key, const std::string& text, int64_t now);
engine::Status deleteDraft(SqliteConnection& db, const std::string& key);  // no error when absent
engine::Result<std::vector<Draft>> selectDrafts(SqliteConnection& db);      // by key

engine::Status upsertSetting(SqliteConnection& db, const std::string& key, const std::string& value);
engine::Result<std::optional<std::string>> selectSetting(SqliteConnection& db, const std::string& key);

}  // namespace glassbox::projects
