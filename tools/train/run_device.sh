#!/bin/bash
# One-command training run on the GPU machine (one H100/H200, torch 2.11, tokenizers,
# safetensors, no network), from the repository root, with the corpus made by
# tools/corpus/build_corpus.py in .work/corpus (carried to the machine).
#
#   bash tools/train/run_device.sh DEST
#
# Trains two candidates on the same tokenizer and data and ships the one with the
# lower validation loss (held-out documents outside the quality slice):
#   B: no dropout, 1500 steps;   A: dropout 0.1, 2800 steps.
# Both keep their best validation checkpoint (evaluated every 200 steps).
# DEST receives the chosen model's weight shards, tokenizer.json and rest.tar (its
# config.json, generation_config.json, tokenizer_config.json,
# model.safetensors.index.json, metrics.json, plus both candidates' metrics):
# at most 8 files, as the device tool brings back.
DEST=${1:?destination folder}
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=true
mkdir -p "$DEST"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import sys, torch, tokenizers, safetensors; print(sys.version.split()[0], torch.__version__, tokenizers.__version__, safetensors.__version__)"
COMMON="--corpus .work/corpus --keep-best --eval-every 200 --seed 1234"
echo "=== candidate B: dropout 0.0, 1500 steps"
timeout -s INT 230 python3 tools/train/train.py $COMMON --out-dir /tmp/cand-b --dropout 0.0 --steps 1500 --hard-stop 190
echo "candidate B exit code $?"
echo "=== candidate A: dropout 0.1, 2800 steps (same tokenizer)"
timeout -s INT 365 python3 tools/train/train.py $COMMON --out-dir /tmp/cand-a --tokenizer /tmp/cand-b/tokenizer.json \
    --dropout 0.1 --steps 2800 --hard-stop 320
echo "candidate A exit code $?"
CHOSEN=$(python3 tools/train/pick.py /tmp/cand-a /tmp/cand-b)
echo "chosen: $CHOSEN"
cp "$CHOSEN"/model-*.safetensors "$CHOSEN"/tokenizer.json "$DEST"/
cp /tmp/cand-a/metrics.json /tmp/metrics-cand-a.json 2>/dev/null
cp /tmp/cand-b/metrics.json /tmp/metrics-cand-b.json 2>/dev/null
echo "$CHOSEN" > /tmp/chosen.txt
tar -cf "$DEST"/rest.tar -C "$CHOSEN" config.json generation_config.json tokenizer_config.json \
    model.safetensors.index.json metrics.json -C /tmp chosen.txt $(cd /tmp && ls metrics-cand-*.json)
ls -la "$DEST"
