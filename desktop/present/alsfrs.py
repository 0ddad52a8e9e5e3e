"""The ALSFRS-R as the clinician scores it (FRS: Cedarbaum 1999): each item's name and the
wording of its five grades, in one place for the entry form and the reports."""

from __future__ import annotations

ITEM_LABELS = {
    "speech": "1 Speech", "salivation": "2 Salivation", "swallowing": "3 Swallowing",
    "handwriting": "4 Handwriting", "cutting_food": "5 Cutting food and handling utensils",
    "dressing_hygiene": "6 Dressing and hygiene", "turning_in_bed": "7 Turning in bed",
    "walking": "8 Walking", "climbing_stairs": "9 Climbing stairs", "dyspnea": "10 Dyspnoea",
    "orthopnea": "11 Orthopnoea", "respiratory_insufficiency": "12 Respiratory insufficiency",
}
CUTTING_5B = "5b Handling gastrostomy utensils"

GRADES: dict[str, tuple[str, str, str, str, str]] = {  # grade 0 .. 4
    "speech": ("Loss of useful speech", "Speech combined with non-vocal communication",
               "Intelligible with repeating", "Detectable speech disturbance", "Normal speech processes"),
    "salivation": ("Marked drooling; requires constant tissue or handkerchief", "Marked excess of saliva with some drooling",
                   "Moderately excessive saliva; may have minimal drooling",
                   "Slight but definite excess of saliva; may have night-time drooling", "Normal"),
    "swallowing": ("Nothing by mouth (exclusively parenteral or enteral feeding)", "Needs supplemental tube feeding",
                   "Dietary consistency changes", "Early eating problems: occasional choking", "Normal eating habits"),
    "handwriting": ("Unable to grip pen", "Able to grip pen but unable to write", "Not all words are legible",
                    "Slow or sloppy: all words are legible", "Normal"),
    "cutting_food": ("Needs to be fed", "Food must be cut by someone, but can still feed slowly",
                     "Can cut most foods, although clumsy and slow; some help needed",
                     "Somewhat slow and clumsy, but no help needed", "Normal"),
    "cutting_food_5b": ("Unable to perform any aspect of the task", "Provides minimal assistance to caregiver",
                        "Some help needed with closures and fasteners",
                        "Clumsy but able to perform all manipulations independently", "Normal"),
    "dressing_hygiene": ("Total dependence", "Needs attendant for self-care",
                         "Intermittent assistance or substitute methods",
                         "Independent and complete self-care with effort or decreased efficiency", "Normal function"),
    "turning_in_bed": ("Helpless", "Can initiate, but not turn or adjust sheets alone",
                       "Can turn alone or adjust sheets, but with great difficulty",
                       "Somewhat slow and clumsy, but no help needed", "Normal"),
    "walking": ("No purposeful leg movement", "Non-ambulatory functional movement only", "Walks with assistance",
                "Early ambulation difficulties", "Normal"),
    "climbing_stairs": ("Cannot do", "Needs assistance", "Mild unsteadiness or fatigue", "Slow", "Normal"),
    "dyspnea": ("Significant difficulty, considering mechanical respiratory support",
                "Occurs at rest: difficulty breathing when sitting or lying",
                "Occurs with eating, bathing or dressing", "Occurs when walking", "None"),
    "orthopnea": ("Unable to sleep", "Can only sleep sitting up", "Needs more than two pillows to sleep",
                  "Some difficulty sleeping at night from shortness of breath; no more than two pillows", "None"),
    "respiratory_insufficiency": ("Invasive mechanical ventilation by intubation or tracheostomy",
                                  "Continuous BiPAP night and day", "Continuous BiPAP during the night",
                                  "Intermittent BiPAP", "None"),
}


def grade_text(item: str, grade: int, *, gastrostomy: bool = False) -> str:
    """"4 Normal speech processes": the grade with its wording."""
    key = "cutting_food_5b" if item == "cutting_food" and gastrostomy else item
    return f"{grade} {GRADES[key][grade]}"


def item_label(item: str, *, gastrostomy: bool = False) -> str:
    if item == "cutting_food" and gastrostomy:
        return CUTTING_5B
    return ITEM_LABELS[item]
