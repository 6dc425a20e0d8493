"""Instructions aimed at the assistant inside a question or a passage, rather than questions about the sources."""

from __future__ import annotations

import re

# English and Dutch
INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|rules|prompts?|guidelines|constraints)\b|"
    r"\b(ignore|disregard|forget|negeer|vergeet)\b.{0,20}\b(your|je|jouw|uw)\s+(notes|sources|documents|context|"
    r"bronnen|notities|documenten)\b|"
    r"system ?prompt|systeemprompt|\b(your|je|jouw) (instructions|prompt|instructies|regels|prompt)\b|"
    r"\binstructions (were you|you were|have you been) given\b|\bwhat (instructions|rules) (were|have|do)\b|"
    r"\b(reveal|print|show|repeat|output|leak)\b.{0,30}\b(prompt|instructions|word for word|verbatim)\b|"
    r"\byou are now\b|\bact as (if|an? (ai|assistant|chatbot|different|unrestricted))|\bpretend (to be|you are)\b|"
    r"\bjailbreak|developer mode|(?-i:\bDAN\b)|\bwithout (any )?restrictions\b|"
    r"\b(negeer|vergeet|omzeil)\b.{0,40}\b(instructies|regels|opdrachten|prompt)\b|"
    r"\b(toon|laat|geef|herhaal)\b.{0,30}\b(prompt|instructies|systeemprompt)\b|\bwelke instructies\b|"
    r"\b(always |only )?(answer|reply|respond) (to )?(every|all|each|any)\b.{0,20}\bwith\b|^\W*say that\b|"
    r"\btell (the user|users|everyone|the reader) that\b|\b(antwoord|zeg) (altijd|alleen)\b|^\W*zeg dat\b",
    re.I)


def strip_injection(question: str) -> tuple[str, bool]:
    """Drop the sentences of a question that address the assistant ("ignore previous instructions...")."""
    if not INJECTION.search(question):
        return question, False
    sentences = re.split(r"(?<=[.!?;:])\s+", question)
    kept = [s for s in sentences if not INJECTION.search(s)]
    return " ".join(kept).strip(), True
