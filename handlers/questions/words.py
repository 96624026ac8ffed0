"""The words questions are read with, in English, French and Spanish (accents folded when
matched): regions, statuses, topics, the words that open a question and the small words that
carry nothing. Only tables here; ``handlers.questions.parsing`` reads with them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from handlers.understanding._text import fold, normalise
from storage.listings import REGIONS
from storage.models import EntryStatus


class Topic(StrEnum):
    NEEDS = "needs"
    OFFERS = "offers"
    OVERVIEW = "overview"
    OVERDUE = "overdue"
    DEADLINES = "deadlines"
    STATS = "stats"
    HELP = "help"


def _phrases(table: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """Folded phrase → value, from value → phrases."""
    return {
        " ".join(fold(normalise(p)).replace("-", " ").split()): v
        for v, ps in table.items()
        for p in ps
    }


REGION_WORDS = _phrases(
    {
        **{region: names for region, names in REGIONS.items()},
        "Americas": (
            *REGIONS["Americas"],
            "Latin America",
            "Amérique latine",
            "América Latina",
            "Latinoamérica",
            "South America",
            "Amérique du Sud",
            "Sudamérica",
            "Caribbean",
            "Caraïbes",
            "Caribe",
        ),
        "Middle East": (*REGIONS["Middle East"], "Proche-Orient", "Oriente Próximo", "Mideast"),
    }
)
STATUS_WORDS = _phrases(
    {
        EntryStatus.OPEN: (
            "open", "opened", "ouvert", "ouverts", "ouverte", "ouvertes",
            "abierto", "abiertos", "abierta", "abiertas",
        ),
        EntryStatus.IN_DISCUSSION: (
            "in discussion", "under discussion", "discussed", "en discussion",
            "en cours de discussion", "en discusión", "discussion", "discusión",
        ),
        EntryStatus.MET: (
            "met", "fulfilled", "satisfied", "satisfait", "satisfaits", "satisfaite",
            "satisfaites", "atendido", "atendidos", "atendida", "atendidas", "satisfecho",
            "satisfechos", "cubierto", "cubiertos",
        ),
        EntryStatus.WITHDRAWN: (
            "withdrawn", "retiré", "retirés", "retirée", "retirées", "retirado", "retirados",
            "retirada", "retiradas",
        ),
    }
)  # fmt: skip
TOPIC_WORDS = _phrases(
    {
        Topic.NEEDS: (
            "need", "needs", "needed", "request", "requests", "requested", "who needs",
            "besoin", "besoins", "demande", "demandes", "necesidad", "necesidades", "necesita",
            "necesitan", "solicitud", "solicitudes",
        ),
        Topic.OFFERS: (
            "offer", "offers", "offered", "capacity", "capacities", "who can help", "can help",
            "help", "donor", "donors", "offre", "offres", "capacité", "capacités", "peut aider",
            "peuvent aider", "aider", "donateur", "donateurs", "oferta", "ofertas", "capacidad",
            "capacidades", "puede ayudar", "pueden ayudar", "ayudar", "donante", "donantes",
            "offers to", "offrent", "propose", "proposent", "ofrece", "ofrecen",
        ),
        Topic.OVERDUE: (
            "late", "overdue", "missing", "not reported", "who is late", "en retard", "retard",
            "retards", "retardataires", "manquants", "atrasado", "atrasados", "retrasado",
            "retrasados", "con retraso", "pendientes", "not submitted", "have not submitted",
            "pas soumis", "pas encore soumis", "pas remis", "no han presentado", "no presentaron",
            "no ha presentado", "sin presentar",
        ),
        Topic.DEADLINES: (
            "deadline", "deadlines", "due", "échéance", "échéances", "délai", "délais",
            "date limite", "dates limites", "plazo", "plazos", "vencimiento", "vencimientos",
            "fecha límite", "fechas límite",
        ),
        Topic.STATS: (
            "stats", "statistics", "figures", "analysis", "statistiques", "chiffres", "analyse",
            "estadísticas", "cifras", "análisis",
        ),
        Topic.OVERVIEW: (
            "overview", "profile", "summary", "situation", "état", "fiche", "aperçu", "estado",
            "resumen", "perfil", "situación",
        ),
    }
)  # fmt: skip


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


OWN = _words("my our mine ours mon ma mes notre nos mi mis nuestro nuestra nuestros nuestras")
# Small words of the three languages that carry nothing for a query.
STOPWORDS = _words(
    """
    a an the of for in on at to with and or by from about is are was there which what who whom
    show list give find me us all any please some that this those these can could do does i we
    you it its has have having our my with without where when how many much assistance
    le la les l un une des du de d au aux et ou en dans pour par sur avec qui que quoi quel quels
    quelle quelles montre montrez liste donne donnez moi tous toutes tout est sont il y a ont
    aide ayant
    el los las lo un una unos unas del al y o en para por con sobre que quien quienes cual cuales
    muestra muestrame lista dame todos todas es son hay tiene tienen ayuda asistencia se
    """
)
# Words that may sit inside a State's name ("Bosnia and Herzegovina", "Trinidad y Tobago").
NAME_JOINERS = _words("and of the et de du des d la y del")


# The words that open a question in English, French and Spanish, accents folded.
QUESTION_WORDS = frozenset(
    (
        "who", "whom", "whose", "which", "what", "where",
        "qui", "quel", "quels", "quelle", "quelles", "lequel", "lesquels", "laquelle",
        "lesquelles", "ou", "combien",
        "quien", "quienes", "que", "cual", "cuales", "donde", "cuanto", "cuantos", "cuanta",
        "cuantas",
    )
)  # fmt: skip
