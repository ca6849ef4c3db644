// Chat formatting: recognise a model's chat layout from its own template text
// (tokenizer.chat_template) without executing the template, and render
// conversations into a prompt string byte for byte as the real template does
// under Hugging Face's apply_chat_template (checked against jinja2 renders in
// tests/data/chat_templates, produced by scripts/render_chat_templates.py).
//
// Supported layouts: ChatML (<|im_start|>, including a default system prompt
// embedded as a literal, as SmolLM2 and Qwen templates do), Llama 3
// (<|start_header_id|>), Llama 2 ([INST] with <<SYS>>), Mistral v0.2 ([INST]
// without <<SYS>>), Zephyr / TinyLlama (<|user|>) and Gemma 1/2
// (<start_of_turn>). Anything else is an error; ChatML can then be chosen
// explicitly as a fallback (chatTemplateFor(ChatFormat::ChatML)).
//
// `bos` / `eos` are inserted as text where the template writes bos_token /
// eos_token; a prompt containing them must be tokenized without adding
// another BOS. Content is trimmed only where the template trims it (Python
// str.strip semantics: Unicode whitespace).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "engine/result.h"

namespace glassbox::engine {

enum class ChatFormat : uint8_t {
    ChatML,   // <|im_start|>role\n...<|im_end|>\n
    Llama3,   // <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|>
    Llama2,   // <s>[INST] <<SYS>>\n...\n<</SYS>>\n\n... [/INST] ... </s>
    Mistral,  // <s>[INST] ... [/INST]...</s> (no system role)
    Zephyr,   // <|user|>\n...</s>\n
    Gemma,    // <start_of_turn>user\n...<end_of_turn>\n (no system role)
};

// "chatml", "llama3", "llama2", "mistral", "zephyr", "gemma".
const char* chatFormatName(ChatFormat format);

// Inverse of chatFormatName (exact, lower case). NotFound lists the known names.
Result<ChatFormat> chatFormatFromName(std::string_view name);

struct ChatMessage {
    std::string role;     // "system", "user", "assistant", or another role the format accepts
    std::string content;
};

struct ChatTemplateInfo {
    ChatFormat format = ChatFormat::ChatML;
    // ChatML only: system prompt the template inserts when the conversation
    // does not start with a system message; empty when it has none.
    std::string defaultSystemPrompt;
    // Non-empty when the template has features this fixed layout does not
    // reproduce (tool definitions, dated preambles, ...); for display.
    std::string caveat;
};

// The layout for a chosen format, with no default system prompt.
ChatTemplateInfo chatTemplateFor(ChatFormat format);

// Recognise the layout of a template text by its markers.
// Errors: NotFound when the text is empty (the model has no template);
// Unsupported when no known layout is recognised (the message names the
// markers looked for), or for a known-incompatible relative (Phi-3's
// <|user|>...<|end|>, Phi-4's <|im_sep|>).
Result<ChatTemplateInfo> detectChatTemplate(std::string_view templateText);

// Render a conversation. addGenerationPrompt appends the opening of an
// assistant turn where the format has one (Llama 2 and Mistral have none:
// their prompt already ends with [/INST]).
// Errors (InvalidArgument, field "messages"), exactly where the real template
// raises: Llama 2 / Mistral / Gemma when user and assistant turns do not
// alternate (after Llama 2's optional leading system message); Mistral for a
// role other than user / assistant; Gemma for a system message; Llama 2 and
// Gemma for an empty conversation.
Result<std::string> formatChat(const ChatTemplateInfo& layout,
                               std::span<const ChatMessage> messages,
                               bool addGenerationPrompt, std::string_view bos,
                               std::string_view eos);

// Same, for a format chosen by name (no default system prompt).
Result<std::string> formatChat(ChatFormat format, std::span<const ChatMessage> messages,
                               bool addGenerationPrompt, std::string_view bos,
                               std::string_view eos);

// The text that ends an assistant turn: a natural stop string for generation
// ("<|im_end|>", "<|eot_id|>", "<end_of_turn>", or eos for the others).
std::string chatTurnEnd(ChatFormat format, std::string_view eos);

// Python's str.strip(): removes leading and trailing Unicode whitespace from
// UTF-8 text (what the templates' trim filter and .strip() do).
std::string_view stripUnicodeWhitespace(std::string_view text);

}  // namespace glassbox::engine
