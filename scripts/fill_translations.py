"""Fill the zh_Hans catalogue from a {msgid: msgstr} dict file and compile it.

Usage: python scripts/fill_translations.py TRANSLATIONS.py
New strings go into the .po through `make messages`; this helper fills many at once.
"""

import runpy
import sys

import polib

PO = "locale/zh_Hans/LC_MESSAGES/django.po"


def main() -> None:
    table = runpy.run_path(sys.argv[1])["ZH"]
    po = polib.pofile(PO)
    for entry in po:
        if entry.msgid in table:
            entry.msgstr = table[entry.msgid]
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
    po.save()
    # A fuzzy guess of makemessages is not compiled: it counts as missing.
    missing = [
        e.msgid
        for e in po
        if "fuzzy" in e.flags or not (e.msgstr or (e.msgid_plural and all(e.msgstr_plural.values())))
    ]
    if missing:
        print("Untranslated:", *missing, sep="\n  ")


if __name__ == "__main__":
    main()
