"""What a need or offer is about, and the treaty article that category falls under."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from storage.models import Category

# CCM Article 3 (stockpile destruction), Article 4 (clearance, and risk reduction education
# under 4.2(e)), Article 5 (victim assistance). Forms of help (equipment, training, funding)
# belong to Article 6 whatever their subject, so they imply no article of their own.
ARTICLE_BY_CATEGORY: Mapping[Category, int] = MappingProxyType(
    {
        Category.STOCKPILE_DESTRUCTION: 3,
        Category.SURVEY_CLEARANCE: 4,
        Category.RISK_EDUCATION: 4,
        Category.VICTIM_ASSISTANCE: 5,
    }
)

# Word stems in folded text (lower case, no accents), English, French and Spanish.
# A space stands for any run of spaces, hyphens or apostrophes ("non-technical", "l'enquête").
# Order is priority when a text names several: equipment first (the thing asked for),
# then the subjects from the most specific to the most generic, then the forms of help
# ("training in risk education" is risk education; "funding for victims" is victim assistance).
_STEMS: tuple[tuple[Category, tuple[str, ...]], ...] = (
    (
        Category.EQUIPMENT,
        (
            r"equipment",
            r"equipement",
            r"equipamiento",
            r"equipos?\b",
            r"vehic(?:le|ule|ulo)",
            r"detect(?:or|eur)",
            r"ppe\b",
            r"protective gear",
            r"materiel\b",
            r"machine",
            r"maquinaria",
            r"tools?\b",
            r"outils?\b",
            r"herramienta",
            r"drones?\b",
        ),
    ),
    (
        Category.STOCKPILE_DESTRUCTION,
        (
            r"stockpil",
            r"stocks\b",
            r"destruc\w* (?:of |des |de |du |d )?(?:the |les |las |los )?"
            r"(?:stock|existencia|arsenal)",
            r"existencias",
            r"arsenal",
            r"reservas de municiones",
            r"municiones almacenadas",
        ),
    ),
    (
        Category.RISK_EDUCATION,
        (
            r"risk (?:reduction )?educat",
            r"risk awareness",
            r"mine risk",
            r"eore\b",
            r"awareness",
            r"education (?:a la |au |aux )?(?:reduction (?:des |du )?)?risque",
            r"sensibilis",
            r"educacion (?:sobre|en|de|para) (?:la reduccion de |el |los |la )?riesgo",
            r"sensibiliz",
            r"concientiz",
            r"concienci",
        ),
    ),
    (
        Category.VICTIM_ASSISTANCE,
        (
            r"victim",
            r"survivor",
            r"survivant",
            r"superviviente",
            r"sobreviviente",
            r"rehabilit",
            r"readapt",
            r"prosthe",
            r"prothes",
            r"protesis",
            r"orthos",
            r"orthot",
            r"ortesis",
            r"physiotherap",
            r"fisioterap",
            r"kinesither",
            r"psychosocial",
            r"psicosocial",
        ),
    ),
    (
        Category.SURVEY_CLEARANCE,
        (
            r"survey",
            r"clearanc",
            r"clearing\b",
            r"de(?: )?mining",
            r"land release",
            r"contaminat",
            r"explosive ordnance disposal",
            r"eod\b",
            r"enquete",
            r"depollu",
            r"deminag",
            r"degagement",
            r"remise a disposition des terres",
            r"contamin",
            r"estudios? (?:no )?tecnico",
            r"reconocimiento (?:no )?tecnico",
            r"despeje",
            r"desmin",
            r"remocion",
            r"limpieza",
            r"descontamin",
            r"liberacion de tierras",
        ),
    ),
    (
        Category.SOCIO_ECONOMIC,
        (
            r"socio(?: )?econom",
            r"livelihood",
            r"economic (?:inclusion|reintegration|empowerment)",
            r"income generat",
            r"moyens de subsistance",
            r"(?:re)?insertion (?:socio(?: )?)?economique",
            r"generation de revenus",
            r"medios de (?:vida|subsistencia)",
            r"inclusion (?:socio(?: )?)?economica",
            r"generacion de ingresos",
        ),
    ),
    (
        Category.NATIONAL_PLANNING,
        (
            r"national (?:\w+ )?(?:plan|strateg)",
            r"strategic plan",
            r"planning",
            r"information management",
            r"database",
            r"imsma",
            r"plan (?:d action )?national",
            r"strategie nationale",
            r"planification",
            r"gestion de l information",
            r"base de donnees",
            r"plan nacional",
            r"estrategia nacional",
            r"planificacion",
            r"gestion de (?:la )?informacion",
            r"base de datos",
        ),
    ),
    (
        Category.TRAINING_EXPERTISE,
        (
            r"train",
            r"expert",
            r"technical (?:assistance|support|advice|adviser|advisor)",
            r"capacity building",
            r"mentor",
            r"advis",
            r"coach",
            r"formation",
            r"appui technique",
            r"assistance technique",
            r"soutien technique",
            r"renforcement des capacites",
            r"conseil",
            r"capacita",
            r"formacion",
            r"entrenamiento",
            r"asistencia tecnica",
            r"apoyo tecnico",
            r"asesor",
            r"fortalecimiento de (?:las )?capacidades",
            r"pericia",
        ),
    ),
    (
        Category.FUNDING,
        (
            r"fund(?:s|ing|ed)?\b",
            r"financ",
            r"money",
            r"grant",
            r"budget",
            r"donation",
            r"subvenc?ion",
            r"fonds\b",
            r"argent\b",
            r"presupuesto",
            r"fondos\b",
            r"dinero",
            r"donacion",
        ),
    ),
)


def _compile(stem: str) -> str:
    return stem.replace(" ", r"[\s\-']+")


_PATTERNS: tuple[tuple[Category, re.Pattern[str]], ...] = tuple(
    (category, re.compile(r"\b(?:" + "|".join(_compile(s) for s in stems) + ")"))
    for category, stems in _STEMS
)

_ARTICLE = re.compile(r"\bart(?:icles?|iculos?|s?\.)?\s*(?P<number>\d{1,2})\b(?![.,]\d)")


def find_category(folded: str) -> Category | None:
    """The highest-priority category whose words appear in folded text."""
    for category, pattern in _PATTERNS:
        if pattern.search(folded):
            return category
    return None


def find_article(folded: str, category: Category | None) -> int | None:
    """Article 3-6 when stated, else the one the category implies."""
    for stated in _ARTICLE.finditer(folded):
        number = int(stated["number"])
        if 3 <= number <= 6:
            return number
    return ARTICLE_BY_CATEGORY.get(category) if category is not None else None
