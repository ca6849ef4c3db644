// models, prompts, drafts and settings: small tables, simple statements.
#include "projects/catalog_tables.h"

namespace glassbox::projects {

using engine::ErrorCode;
using engine::makeError;
using engine::Result;
using engine::Status;

namespace {

ModelRecord readModel(const SqliteStatement& row) {
    ModelRecord m;
    m.id = row.int64(0);
    m.path = row.text(1);
    m.fileBytes = uint64_t(row.int64(2));
    m.sha256 = row.text(3);
    m.architecture = row.text(4);
    m.displayName = row.text(5);
    m.addedAt = row.int64(6);
    return m;
}

Result<PromptRecord> readPrompt(const SqliteStatement& row) {
    PromptRecord p;
    p.id = row.int64(0);
    p.title = row.text(1);
    const auto mode = promptModeFromName(row.text(2));
    if (!mode)
        return makeError(ErrorCode::Malformed,
                         "prompt " + std::to_string(p.id) + " has an unknown mode '" + row.text(2) + "'",
                         "prompts.mode");
    p.mode = *mode;
    p.systemPrompt = row.text(3);
    p.content = row.text(4);
    p.createdAt = row.int64(5);
    p.updatedAt = row.int64(6);
    return p;
}

constexpr const char* kModelSelect =
    "SELECT id, path, file_bytes, sha256, architecture, display_name, added_at FROM models";
constexpr const char* kPromptSelect =
    "SELECT id, title, mode, system_prompt, content, created_at, updated_at FROM prompts";

}  // namespace

Result<int64_t> upsertModelRow(SqliteConnection& db, const ModelRecord& model, int64_t now) {
    GB_ASSIGN_OR_RETURN(SqliteStatement stmt,
                        db.prepare("INSERT INTO models (path, file_bytes, sha256, architecture, display_name, "
                                   "added_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (path, sha256) DO "
                                   "UPDATE SET file_bytes = excluded.file_bytes, architecture = "
                                   "excluded.architecture, display_name = excluded.display_name RETURNING id"));
    stmt.bind(1, std::string_view(model.path)).bind(2, int64_t(model.fileBytes));
    stmt.bind(3, std::string_view(model.sha256)).bind(4, std::string_view(model.architecture));
    stmt.bind(5, std::string_view(model.displayName)).bind(6, model.addedAt ? model.addedAt : now);
    GB_ASSIGN_OR_RETURN(const bool row, stmt.step());
    if (!row) return makeError(ErrorCode::Io, "storing the model returned no id", "models.id");
    const int64_t id = stmt.int64(0);
    GB_ASSIGN_OR_RETURN(const bool more, stmt.step());  // finish the statement
    (void)more;
    return id;
}

Result<ModelRecord> selectModel(SqliteConnection& db, int64_t id) {
    GB_ASSIGN_OR_RETURN(SqliteStatement stmt, db.prepare(std::string(kModelSelect) + " WHERE id = ?1"));
    stmt.bind(1, id);
    GB_ASSIGN_OR_RETURN(const bool found, stmt.step());
    if (!found) return makeError(ErrorCode::NotFound, "there is no model " + std::to_string(id), "models.id");
    return readModel(stmt);
}

Result<std::vector<ModelRecord>> selectModels(SqliteConnection& db) {
    GB_ASSIGN_OR_RETURN(SqliteStatement stmt, db.prepare(std::string(kModelSelect) + " ORDER BY id"));
    std::vector<ModelRecord> out;
    for (;;) {
        GB_ASSIGN_OR_RETURN(const bool row, stmt.step());
        if (!row) return out;
        out.push_back(readModel(stmt));
    }
}

Result<int64_t> insertPromptRow(SqliteConnection& db, const PromptRecord& prompt, int64_t now) {
    GB_ASSIGN_OR_RETURN(SqliteStatement stmt,
                        db.prepare("INSERT INTO prompts (title, mode, system_prompt, content, created_at, "
                                   "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    stmt.bind(1, std::string_view(prompt.title)).bind(2, std::string_view(promptModeName(prompt.mode)));
    stmt.bind(3, std::string_view(prompt.systemPrompt)).bind(4, std::string_view(prompt.content));
    stmt.bind(5, prompt.createdAt ? prompt.createdAt : now).bind(6, prompt.updatedAt ? prompt.updatedAt : now);
    GB_TRY(stmt.run());
    return db.lastInsertRowid();
}

Status updatePromptRow(SqliteConnection& db, const PromptRecord& prompt, int64_t now) {
    GB_ASSIGN_OR_RETURN(SqliteStatement stmt,
                        db.prepare("UPDATE prompts SET title = ?2, mode = ?3, system_prompt = ?4, content = ?5, "
                                   "updated_at = ?6 WHERE id = ?1"));
    stmt.bind(1, prompt.id).bind(2, std::string_view(prompt.title));
    stmt.bind(3, std::string_view(promptModeName(prompt.mode))).bind(4, std::string_view(prompt.systemPrompt));
    stmt.bind(5, std::string_view(prompt.content)).bind(6, prompt.updatedAt ? prompt.updatedAt : now);
    GB_TRY(stmt.run());
    if (db.changes() == 0)
        return makeError(ErrorCode::NotFound, "there is no prompt " + std::to_string(prompt.id), "prompts.id");
    return {};
}

Result<PromptRecord> selectPrompt(SqliteConnection& db, int64_t id) {
    GB_ASSIGN_OR_RETURN(SqliteStatement stmt, db.prepare(std::string(kPromptSelect) + " WHERE id = ?1"));
    stmt.bind(1, id);
    GB_ASSIGN_OR_RETURN(const bool found, stmt.step());
    if (!found) return makeError(ErrorCode::NotFound, "there is no prompt " + std::to_string(id), "prompts.id");
    return readPrompt(stmt);
}

Result<std::vector<PromptRecord>> selectPrompts(SqliteConnection& db) {
    GB_ASSIGN_OR_RETURN(SqliteStatement stmt, db.prepare(std::string(kPromptSelect) + " ORDER BY id"));
    std::vector<PromptRecord> out;
    for (;;) {
        GB_ASSIGN_OR_RETURN(const bool row, stmt.step());
        if (!row) return out;
        GB_ASSIGN_OR_RETURN(PromptRecord p, readPrompt(stmt));
        out.push_back(std::move(p));
    }
}

Status upsertDraft(SqliteConnection& db, const std::string& key, const std::string& text, int64_t now) {
    GB_ASSIGN_OR_RETURN(SqliteStatement stmt,
                        db.prepare("INSERT INTO drafts (key, text, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT "
                                   "(key) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at"));
    stmt.bind(1, std::string_view(key)).bind(2, std::string_view(text)).bind(3, now);
    return stmt.run();
}

Status deleteDraft(SqliteConnection& db, const std::string& key) {
    GB_ASSIGN_OR_RETURN(SqliteStatement stmt, db.prepare("DELETE FROM drafts WHERE key = ?1"));
    stmt.bind(1, std::string_view(key));
    return stmt.run();
}

Result<std::vector<Draft>> selectDrafts(SqliteConnection& db) {
    GB_ASSIGN_OR_RETURN(SqliteStatement stmt, db.prepare("SELECT key, text, updated_at FROM drafts ORDER BY key"));
    std::vector<Draft> out;
    for (;;) {
        GB_ASSIGN_OR_RETURN(const bool row, stmt.step());
        if (!row) return out;
        out.push_back(Draft{stmt.text(0), stmt.text(1), stmt.int64(2)});
    }
}

Status upsertSetting(SqliteConnection& db, const std::string& key, const std::string& value) {
    GB_ASSIGN_OR_RETURN(SqliteStatement stmt,
                        db.prepare("INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE "
                                   "SET value = excluded.value"));
    stmt.bind(1, std::string_view(key)).bind(2, std::string_view(value));
    return stmt.run();
}

Result<std::optional<std::string>> selectSetting(SqliteConnection& db, const std::string& key) {
    GB_ASSIGN_OR_RETURN(SqliteStatement stmt, db.prepare("SELECT value FROM settings WHERE key = ?1"));
    stmt.bind(1, std::string_view(key));
    GB_ASSIGN_OR_RETURN(const bool found, stmt.step());
    if (!found || stmt.isNull(0)) return std::optional<std::string>();
    return std::optional<std::string>(stmt.text(0));
}

}  // namespace glassbox::projects
