#!/bin/bash
# One-command training run on the GPU machine (one H100/H200, torch 2.11, tokenizers,
# safetensors, no network), from the repository root, with the corpus made by
# tools/corpus/build_corpus.py in .work/corpus (carried to the machine).
#
#   bash tools/train/run_device.sh DEST [extra train.py arguments]
#
# DEST receives the weight shards, tokenizer.json and rest.tar (config.json,
# generation_config.json, tokenizer_config.json, model.safetensors.index.json,
# metrics.json): at most 8 files, as the device tool brings back.
DEST=${1:?destination folder}
shift
STAGE=/tmp/fp6-tiny-en
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=true
mkdir -p "$DEST" "$STAGE"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import sys, torch, tokenizers, safetensors; print(sys.version.split()[0], torch.__version__, tokenizers.__version__, safetensors.__version__)"
timeout -s INT 575 python3 tools/train/train.py --corpus .work/corpus --out-dir "$STAGE" "$@"
echo "train.py exit code $?"
cp "$STAGE"/model-*.safetensors "$STAGE"/tokenizer.json "$DEST"/ 2>/dev/null
(cd "$STAGE" && tar -cf "$DEST"/rest.tar $(ls config.json generation_config.json tokenizer_config.json \
    model.safetensors.index.json metrics.json 2>/dev/null))
ls -la "$DEST"
