"""Byte-level BPE tokenizer (Hugging Face `tokenizers`) and the chat format.

Special tokens come first in the vocabulary:
  0 <|begin_of_text|>  (BOS)        1 <|end_of_text|>  (EOS of plain text)
  2 <|im_start|>       3 <|im_end|>  (ChatML turns)     4 <|pad|>
then the 256 byte symbols, then the learned merges.  Pre-tokenizer: ByteLevel
with the GPT-2 split regex, no prefix space; decoder: ByteLevel.  The
post-processor prepends BOS when `add_special_tokens=True` (as Llama 3 does).
"""

import json

SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|im_start|>", "<|im_end|>", "<|pad|>"]
BOS, EOS, IM_START, IM_END, PAD = range(5)

CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def render_chat(messages, add_generation_prompt=False):
    """Python twin of CHAT_TEMPLATE (checked against transformers on the GPU machine)."""
    s = SPECIALS[BOS]
    for m in messages:
        s += "<|im_start|>" + m["role"] + "\n" + m["content"] + "<|im_end|>" + "\n"
    if add_generation_prompt:
        s += "<|im_start|>assistant\n"
    return s


def train_tokenizer(texts, vocab_size, path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(
        single=SPECIALS[BOS] + " $A",
        pair=SPECIALS[BOS] + " $A " + SPECIALS[BOS] + " $B",
        special_tokens=[(SPECIALS[BOS], BOS)])
    for i, s in enumerate(SPECIALS):
        assert tok.token_to_id(s) == i, (s, tok.token_to_id(s))
    if tok.get_vocab_size() != vocab_size:
        print(f"warning: tokenizer has {tok.get_vocab_size()} tokens, wanted {vocab_size}", flush=True)
    tok.save(path)
    return tok


def tokenizer_config(max_len):
    added = {str(i): {"content": s, "lstrip": False, "normalized": False, "rstrip": False,
                      "single_word": False, "special": True} for i, s in enumerate(SPECIALS)}
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": SPECIALS[BOS],
        "eos_token": SPECIALS[EOS],
        "pad_token": SPECIALS[PAD],
        "unk_token": None,
        "add_bos_token": True,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": max_len,
        "added_tokens_decoder": added,
        "chat_template": CHAT_TEMPLATE,
    }


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")
