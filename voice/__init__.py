"""The hall's voice, shared by the displays (calls) and the kiosks (prompts): voice packs of
recorded or espeak-ng clips, audio joined from them, and the speakers that play it.

Start with ``pack`` (clip keys, ``VoicePack``), then ``speaker``; README.md says more.
"""
