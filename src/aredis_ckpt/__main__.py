"""``python -m aredis_ckpt``: the ``aredis-ckpt`` command line (see ``aredis_ckpt.cli``)."""

from aredis_ckpt.cli import run

if __name__ == "__main__":
    run()
