"""Short lists of common Norwegian names, combined at random into synthetic health workers."""

from __future__ import annotations

GIVEN_NAMES = (
    "Anne", "Inger", "Kari", "Marit", "Ingrid", "Liv", "Eva", "Berit", "Astrid", "Bjørg", "Hilde", "Anna",
    "Solveig", "Marianne", "Randi", "Ida", "Nina", "Elin", "Ragnhild", "Tone", "Silje", "Hanne", "Ingeborg",
    "Camilla", "Nora", "Emma", "Sara", "Thea", "Maria", "Ingvild", "Guro", "Sigrid", "Line", "Kristin",
    "Jan", "Per", "Bjørn", "Ole", "Lars", "Kjell", "Knut", "Arne", "Svein", "Thomas", "Hans", "Geir",
    "Tor", "Morten", "Terje", "Odd", "Erik", "Martin", "Andreas", "John", "Anders", "Rune", "Trond",
    "Jonas", "Magnus", "Henrik", "Sindre", "Eirik", "Håkon", "Sivert", "Even", "Øystein", "Ola", "Espen",
)  # fmt: skip
FAMILY_NAMES = (
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen", "Jensen",
    "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg", "Haugen", "Hagen", "Johannessen", "Andreassen",
    "Jacobsen", "Dahl", "Jørgensen", "Halvorsen", "Henriksen", "Lund", "Sørensen", "Jakobsen", "Moen",
    "Gundersen", "Iversen", "Strand", "Solberg", "Svendsen", "Eide", "Knutsen", "Martinsen", "Paulsen",
    "Bakken", "Kristoffersen", "Mathisen", "Lie", "Amundsen", "Nguyen", "Rasmussen", "Ali", "Lunde",
    "Solheim", "Berge", "Moe", "Nygård", "Bakke", "Kristensen", "Fredriksen", "Holm", "Lien", "Hauge",
    "Christensen", "Andresen", "Nielsen", "Knudsen", "Evensen", "Sæther", "Aas", "Myhre", "Hanssen",
    "Ahmed", "Haugland", "Thomassen", "Sivertsen", "Simonsen", "Danielsen", "Berntsen", "Sandvik",
    "Rønning", "Aune", "Stene", "Hoel", "Aasen", "Vik", "Ødegård", "Grande", "Brekke", "Tangen", "Furre",
    "Kvam", "Reitan", "Skjetne", "Løvås", "Hegge", "Flatmo", "Ulstein", "Vestre", "Giske", "Tennfjord",
)  # fmt: skip


def user_name_part(name: str) -> str:
    """A name as it appears in a user name: lower case ASCII, æøå folded."""
    folded = name.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum())
