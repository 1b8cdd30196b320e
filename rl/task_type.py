"""Tell IELTS Writing Task 1 reports from Task 2 essays by their wording (torch-free, no Django).

Task 1 asks to describe a visual (graph, chart, table, diagram, map, process); Task 2 asks for an argued essay.
Published pools mix them, often with the Task 1 question paraphrased ("How did spending compare ...?") or replaced
by a title, so the essay's opening counts as much as the question: a report opens by naming the visual and what it
shows ("The line graph compares ...", "The provided maps illustrate ...", "Depicted in the maps are ...").
"""

import re

# What a Task 1 report describes ("figures show" is left out: Task 2 essays quote figures too).
VISUAL = r"(?:graphs?|charts?|tables?|diagrams?|maps?|flow ?charts?|plans?|pictures?|infographics?)"
REPORTING_VERB = (
    r"(?:illustrates?|shows?|depicts?|compares?|presents?|gives?|provides?|displays?|describes?|details?|"
    r"outlines?|reveals?|demonstrates?|indicates?|highlights?|breaks? down|summari[sz]es?|represents?|"
    r"(?:aims?|serves?|seeks?) to \w+)"
)
DETERMINER = r"(?:the|these|this|two|three|four|both|given|provided|supplied|accompanying|above|following)"

# "The (given) line graph (below) shows", "The provided chart and graph depict", "The maps of a town illustrate".
VISUAL_SUBJECT = re.compile(
    rf"\b{DETERMINER}\s+(?:[\w\-]+\s+){{0,3}}?{VISUAL}\b[\w ,\-()]{{0,80}}?\b{REPORTING_VERB}\b", re.IGNORECASE
)
# "Depicted in the maps are ...", "In the provided maps, we can observe ...", "According to the table, ...".
VISUAL_FRAME = re.compile(
    rf"^(?:\w+ in|in|according to|as (?:shown|seen|illustrated) in)\s+{DETERMINER}\s+(?:[\w\-]+\s+){{0,3}}?{VISUAL}\b",
    re.IGNORECASE,
)
# The official Task 1 instructions (never in a Task 2 question).
TASK1_INSTRUCTION = re.compile(
    r"summari[sz]e the information by selecting and reporting the main features"
    r"|make comparisons where relevant"
    r"|write at least 150 words",
    re.IGNORECASE,
)
# A question about a visual: "What are the main trends shown in the chart ...?", "Analyze the bar chart ...".
QUESTION_ABOUT_VISUAL = re.compile(
    rf"\b(?:{DETERMINER}|in a|the)\s+(?:[\w\-]+\s+){{0,2}}?{VISUAL}\b(?!\s+(?:of|for)\s+(?:life|society|the future))",
    re.IGNORECASE,
)

OPENING_CHARS = 400


def opening(text: str) -> str:
    """The first paragraph (at most OPENING_CHARS): where a report names its visual."""
    stripped = text.strip()
    first_paragraph = stripped.split("\n", 1)[0]
    return first_paragraph[:OPENING_CHARS]


def task1_evidence(question: str, essay: str = "") -> str | None:
    """The phrase that marks this question (and essay) as a Task 1 report, or None for a Task 2 essay."""
    if match := TASK1_INSTRUCTION.search(question):
        return match.group(0)
    head = opening(essay)
    if match := VISUAL_SUBJECT.search(head) or VISUAL_FRAME.search(head):
        return match.group(0)
    question_visual = VISUAL_SUBJECT.search(question) or QUESTION_ABOUT_VISUAL.search(question)
    # A question naming a chart is a report when the essay does not argue: it must refer to a visual as well.
    if question_visual and (not essay or re.search(rf"\b{VISUAL}\b", head, re.IGNORECASE)):
        return question_visual.group(0)
    return None


def is_task1_report(question: str, essay: str = "") -> bool:
    return task1_evidence(question, essay) is not None
