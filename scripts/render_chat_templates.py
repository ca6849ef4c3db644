#!/usr/bin/env python3
"""Render reference prompts for the chat-format tests.

Renders sample conversations through real model chat templates with jinja2,
configured the way Hugging Face's apply_chat_template configures it
(ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols,
raise_exception / tojson / strftime_now, tools=None, special tokens passed as
variables). The outputs are written to tests/data/chat_templates/ and
compared byte for byte by tests/unit/tst_chat_template.cpp.

Usage:
    .venv/bin/python scripts/render_chat_templates.py [--model models/SmolLM2-135M-Instruct.Q4_1.gguf]

The SmolLM2 template is read from the GGUF file's tokenizer.chat_template
when the model is present, otherwise from the stored copy. The other
templates are the public ones shipped with each model's tokenizer config.
"""

import argparse
import datetime
import json
import pathlib
import sys

import jinja2
import jinja2.ext
import jinja2.sandbox

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "chat_templates"

# name -> (source model, template text, bos, eos, expected format, default system prompt)
TEMPLATES = {
    "smollm2": (
        "HuggingFaceTB/SmolLM2-135M-Instruct (GGUF tokenizer.chat_template)",
        None,  # read from the GGUF or the stored copy
        "<|im_start|>", "<|im_end|>", "chatml",
        "You are a helpful AI assistant named SmolLM, trained by Hugging Face",
    ),
    "chatml": (
        "teknium/OpenHermes-2.5-Mistral-7B",
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
        "<s>", "<|im_end|>", "chatml", "",
    ),
    "qwen2": (
        "Qwen/Qwen2-7B-Instruct",
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
        "", "<|im_end|>", "chatml", "You are a helpful assistant.",
    ),
    "qwen2_5": (
        "Qwen/Qwen2.5-Instruct (tool-aware ChatML)",
        r"""{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
""",
        "", "<|im_end|>", "chatml", "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.",
    ),
    "llama3": (
        "meta-llama/Meta-Llama-3-8B-Instruct",
        "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}",
        "<|begin_of_text|>", "<|eot_id|>", "llama3", "",
    ),
    "llama2": (
        "meta-llama/Llama-2-7b-chat-hf",
        "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}",
        "<s>", "</s>", "llama2", "",
    ),
    "mistral": (
        "mistralai/Mistral-7B-Instruct-v0.2",
        "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}",
        "<s>", "</s>", "mistral", "",
    ),
    "zephyr": (
        "TinyLlama/TinyLlama-1.1B-Chat-v1.0 (Zephyr layout)",
        "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}",
        "<s>", "</s>", "zephyr", "",
    ),
    "gemma": (
        "google/gemma-2b-it",
        "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}",
        "<bos>", "<eos>", "gemma", "",
    ),
}

CONVERSATIONS = {
    "multi_turn": (True, [
        ("system", "You are a terse assistant."),
        ("user", "Hello"),
        ("assistant", "Hi there"),
        ("user", "Who are you?"),
    ]),
    "no_system": (True, [
        ("user", "What is 2+2?"),
        ("assistant", "4"),
        ("user", "And 3+3?"),
    ]),
    "single_user_no_generation_prompt": (False, [
        ("user", "Hello"),
    ]),
    "whitespace_and_unicode": (True, [
        ("system", "  Be brief.\n"),
        ("user", "  h\u00e9llo \u4e16\u754c \u2014 \u00bfqu\u00e9?\n\n"),
        ("assistant", "\u00a0 answer \u3000"),
        ("user", "\ttab\tend\t\u2028"),
    ]),
    "empty": (True, []),
    "system_only": (True, [
        ("system", "Only a system prompt."),
    ]),
    "repeated_user": (True, [
        ("user", "first"),
        ("user", "second"),
    ]),
    "tool_role": (True, [
        ("user", "Call it."),
        ("tool", "42"),
    ]),
}


def make_environment():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent,
                          separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return datetime.datetime.now().strftime(fmt)

    env = jinja2.sandbox.ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def read_gguf_template(model_path):
    from gguf import GGUFReader
    reader = GGUFReader(str(model_path))
    field = reader.fields["tokenizer.chat_template"]
    return bytes(field.parts[field.data[0]]).decode("utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"))
    args = parser.parse_args()

    (OUT / "templates").mkdir(parents=True, exist_ok=True)
    env = make_environment()
    manifest = {"templates": [], "conversations": [], "renders": []}

    for name, (add_gen, messages) in CONVERSATIONS.items():
        manifest["conversations"].append({
            "name": name,
            "addGenerationPrompt": add_gen,
            "messages": [{"role": r, "content": c} for r, c in messages],
        })

    for name, (source, text, bos, eos, fmt, default_system) in TEMPLATES.items():
        template_file = OUT / "templates" / f"{name}.jinja"
        if text is None:
            model = pathlib.Path(args.model)
            text = read_gguf_template(model) if model.exists() else template_file.read_text("utf-8")
        template_file.write_bytes(text.encode("utf-8"))
        manifest["templates"].append({
            "name": name, "source": source, "file": f"templates/{name}.jinja",
            "bos": bos, "eos": eos, "format": fmt, "defaultSystemPrompt": default_system,
        })
        compiled = env.from_string(text)
        for conv_name, (add_gen, messages) in CONVERSATIONS.items():
            entry = {"template": name, "conversation": conv_name}
            try:
                rendered = compiled.render(
                    messages=[{"role": r, "content": c} for r, c in messages],
                    tools=None, documents=None, add_generation_prompt=add_gen,
                    bos_token=bos, eos_token=eos)
            except jinja2.exceptions.TemplateError as error:
                entry["error"] = str(error)
            else:
                out_name = f"{name}__{conv_name}.txt"
                (OUT / out_name).write_bytes(rendered.encode("utf-8"))
                entry["expected"] = out_name
            manifest["renders"].append(entry)

    (OUT / "cases.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")
    errors = sum(1 for r in manifest["renders"] if "error" in r)
    print(f"wrote {len(manifest['renders']) - errors} renders and {errors} expected errors to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
