"""The one home of user-facing Swedish and English text, and of number formatting.

Every text a reader sees (map, report, command line, reasons in the outputs) is a fixed
template in :data:`TEXTS`, keyed by a dotted key (``"report.title"``, ``"map.treated"``,
``"role.never_treated"``) with a Swedish (``"sv"``) and an English (``"en"``) version.
:func:`text` fills one template, :func:`texts` hands a module a whole group.

Values are data, never templates: they are inserted with :meth:`str.format` into the fixed
template, so a value holding ``{x}``, ``{{`` or ``[[level]]`` is shown exactly as written.

Interval labels follow the confidence level of the run: texts hold the token ``[[level]]``
where the level goes, and it is filled in (:func:`text` with ``level=``, :func:`texts`,
:func:`with_level`), so a run with ``level = 0.9`` says "90 %" everywhere and never a
hard-coded "95 %".

Numbers have one formatter, :func:`fmt_number`, used by the map, the report and the command
line alike: Swedish groups thousands with a non-breaking space (U+00A0, so a sum never wraps)
and writes a decimal comma; English uses commas and a point. A negative number gets a real
minus sign (U+2212) in both languages; a missing or infinite value is an en dash (U+2013).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from typing import Any

__all__ = [
    "LANGS",
    "LEVEL",
    "MISSING",
    "TEXTS",
    "fmt_number",
    "fmt_p",
    "fmt_percent",
    "fmt_pp",
    "fmt_sek",
    "level_label",
    "text",
    "texts",
    "with_level",
]

#: The languages every text exists in.
LANGS = ("sv", "en")
#: The token replaced by the confidence level in sv/en texts.
LEVEL = "[[level]]"
#: What a missing (NA, None, NaN or infinite) number is shown as: an en dash.
MISSING = "\u2013"
_MINUS = "\u2212"
_NBSP = "\u00a0"

# Keys are "<group>.<name>"; every key has "sv" and "en" with the same {placeholders}.
TEXTS: dict[str, dict[str, str]] = {
    # ---- progress of a run (pipeline)
    "progress.areas": {"sv": "Läser områden", "en": "Reading areas"},
    "progress.register": {
        "sv": "Läser investeringsregistret", "en": "Reading the investment register"},
    "progress.geocode": {"sv": "Geokodar investeringar", "en": "Geocoding investments"},
    "progress.survey": {"sv": "Läser trygghetsmätningen", "en": "Reading the safety survey"},
    "progress.design": {
        "sv": "Väljer behandlade områden och kontrollområden",
        "en": "Choosing treated and control areas"},
    "progress.effects": {"sv": "Skattar effekter", "en": "Estimating effects"},
    "progress.incidents": {
        "sv": "Beräknar täthet och otrygga platser", "en": "Computing density and unsafe places"},
    "progress.write": {
        "sv": "Skriver karta, GeoPackage och rapport", "en": "Writing map, GeoPackage and report"},
    # ---- effects
    "effects.not_yet": {
        "sv": "Ej mätbar ännu: klar efter den sista mätningen; nästa mätning {next_wave}.",
        "en": "Not measurable yet: finished after the last wave; next wave {next_wave}.",
    },
    "effects.ongoing_not_yet": {
        "sv": "Pågående, startad efter den sista mätningen: ingen effekt skattas förrän "
              "arbetet är klart och mätts; nästa mätning {next_wave}.",
        "en": "Ongoing, started after the last wave: no effect is estimated until the work "
              "is finished and measured; next wave {next_wave}.",
    },
    "effects.ongoing": {
        "sv": "Pågående: ingen effekt skattas förrän arbetet är klart.",
        "en": "Ongoing: no effect is estimated until the work is finished.",
    },
    "effects.cancelled": {
        "sv": "Avbrutet eller inte genomfört: ingen effekt.",
        "en": "Cancelled or not carried out: no effect.",
    },
    "effects.no_date": {
        "sv": "Datum för färdigställande saknas, så mätperioden är okänd.",
        "en": "No completion date, so the measurement window is unknown.",
    },
    "effects.before_window": {
        "sv": "Klar före den första mätningen: ingen mätning före åtgärden.",
        "en": "Finished before the first wave: no measurement before it.",
    },
    "effects.started_before_window": {
        "sv": "Arbetet började före den första mätningen: ingen mätning före åtgärden.",
        "en": "The work started before the first wave: no measurement before it.",
    },
    "effects.duplicate": {
        "sv": "Dubblett av rad {row} i registret: räknas en gång, där.",
        "en": "Duplicate of register row {row}: counted once, there.",
    },
    "effects.area_not_treated": {
        "sv": "Området jämförs inte: {reason}",
        "en": "The area is not compared: {reason}",
    },
    "effects.mixed_kinds": {
        "sv": "Flera åtgärdstyper i området under perioden: effekten redovisas per projekt.",
        "en": "Several kinds in the area in the period: the effect is shown per project.",
    },
    "effects.kind_not_pooled": {
        "sv": "Okänd åtgärdstyp: slås inte ihop till en gemensam effekt (ange typen under "
              "[register.kinds] i projekt.toml).",
        "en": "Unknown kind: not pooled into one effect (name the kind under [register.kinds] "
              "in projekt.toml).",
    },
    "effects.no_estimate": {
        "sv": "Ingen skattning: mätning saknas i vågen före eller efter åtgärden, i området eller "
              "i kontrollområdena.",
        "en": "No estimate: the survey has no value for the wave before or after the investment, "
              "in the area or in the control areas.",
    },
    # ---- which result is the headline (trygg_geo.effects.inference.choose_headline)
    "effects.headline.permutation": {
        "sv": "Permutationstestet är huvudresultat: med {n_treated} behandlade områden (färre "
              "än {min_treated}) avgör några få områdens egna svängningar skattningen, och "
              "modellens intervall vilar på antaganden som inte går att pröva. Testet jämför i "
              "stället med alla sätt att välja lika många av de jämförda områdena.",
        "en": "The permutation test is the headline: with {n_treated} treated areas (fewer than "
              "{min_treated}) a few areas' own swings decide the estimate, and the model "
              "interval rests on assumptions that cannot be checked. The test compares instead "
              "with every way of choosing as many of the compared areas.",
    },
    "effects.headline.model": {
        "sv": "Modellens intervall är huvudresultat: {n_treated} behandlade områden; "
              "osäkerheten omfattar urvalsfel och områdenas egna svängningar mellan mätningarna.",
        "en": "The model interval is the headline: {n_treated} treated areas; the uncertainty "
              "covers sampling error and the areas' own swings between waves.",
    },
    "effects.headline.model_few": {
        "sv": "Modellens intervall redovisas trots bara {n_treated} behandlade områden (färre än "
              "{min_treated}): inget permutationstest gick att göra. Tolka det med försiktighet.",
        "en": "The model interval is shown although there are only {n_treated} treated areas "
              "(fewer than {min_treated}): no permutation test was possible. Read it with care.",
    },
    "effects.chance_significant": {
        "sv": "{n_tests} test på [[level]]-nivån ger i genomsnitt {expected} signifikanta "
              "resultat av ren slump även utan någon effekt; därför bedöms signifikans efter "
              "p-värden justerade med Holms metod.",
        "en": "{n_tests} tests at the [[level]] level give on average {expected} significant "
              "results by chance alone, even with no effect; significance is therefore judged "
              "by p-values adjusted with Holm's method.",
    },
    # ---- the estimator chosen from the design (trygg_geo.effects.selection)
    "estimator.name.did_2x2": {
        "sv": "Differens-i-differenser (2×2)", "en": "Difference-in-differences (2×2)"},
    "estimator.name.callaway_santanna": {
        "sv": "Callaway–Sant'Anna (åtgärder införda vid olika tidpunkter)",
        "en": "Callaway–Sant'Anna (staggered adoption)"},
    "estimator.name.synthetic_control": {"sv": "Syntetisk kontroll", "en": "Synthetic control"},
    "estimator.why.two_waves": {
        "sv": "Två mätvågor ({waves}): varje behandlat område jämförs med kontrollområdena "
              "mellan vågen före och vågen efter åtgärden.",
        "en": "Two survey waves ({waves}): each treated area is compared with the control areas "
              "between the wave before and the wave after the investment.",
    },
    "estimator.why.staggered": {
        "sv": "{n_waves} mätvågor och åtgärder klara före olika vågor ({cohorts}): varje grupp "
              "som blev klar före samma våg jämförs med de områden som ännu inte fått någon "
              "åtgärd, och jämförelserna vägs samman till en effekt och en händelsestudie. En "
              "vanlig regression med område och år skulle här jämföra sent behandlade områden "
              "med redan behandlade.",
        "en": "{n_waves} survey waves and investments finished before different waves "
              "({cohorts}): each group finished before the same wave is compared with the areas "
              "not yet treated, and the comparisons are pooled into one effect and an event "
              "study. A plain area-and-year regression would here compare late-treated areas "
              "with already treated ones.",
    },
    "estimator.why.one_cohort": {
        "sv": "{n_waves} mätvågor, alla åtgärder klara före samma våg ({cohorts}): samma "
              "skattning ger en effekt för varje våg efter åtgärden och ett test av trenderna "
              "före den.",
        "en": "{n_waves} survey waves, every investment finished before the same wave "
              "({cohorts}): the same estimator gives an effect for every wave after the "
              "investment and a test of the trends before it.",
    },
    "estimator.why.no_treated": {
        "sv": "Inga behandlade områden under perioden: ingen effekt att skatta.",
        "en": "No treated areas in the period: there is no effect to estimate.",
    },
    "estimator.why.one_project": {
        "sv": "Ett enda behandlat område ({area}) med {n_pre} mätvågor före åtgärden (valt som "
              "alternativ): området jämförs med en viktad kombination av kontrollområden som "
              "följer dess utveckling före åtgärden.",
        "en": "A single treated area ({area}) with {n_pre} waves before the investment (chosen "
              "as an option): the area is compared with a weighted combination of control "
              "areas that follows its course before the investment.",
    },
    "estimator.why.synth_not_used": {
        "sv": "Syntetisk kontroll valdes som alternativ men används inte: {why}",
        "en": "Synthetic control was chosen as an option but is not used: {why}",
    },
    "estimator.synth_needs.one_area": {
        "sv": "den kräver exakt ett behandlat område (här {n}).",
        "en": "it needs exactly one treated area (here {n}).",
    },
    "estimator.synth_needs.pre_waves": {
        "sv": "den kräver minst två mätvågor före åtgärden (här {n}).",
        "en": "it needs at least two survey waves before the investment (here {n}).",
    },
    "estimator.synth_needs.donors": {
        "sv": "den kräver minst två kontrollområden (här {n}).",
        "en": "it needs at least two control areas (here {n}).",
    },
    "estimator.assumptions.did_2x2": {
        "sv": "Antaganden: utan åtgärden hade andelen i de behandlade områdena ändrats lika "
              "mycket som i kontrollområdena mellan de två vågorna (parallella trender); "
              "kontrollområdena påverkas inte av åtgärden; inget annat som påverkar tryggheten "
              "hände samtidigt bara i de behandlade områdena. Med bara två vågor kan de "
              "parallella trenderna inte prövas.",
        "en": "Assumptions: without the investment the share in the treated areas would have "
              "changed as much as in the control areas between the two waves (parallel "
              "trends); the control areas are not affected by the investment; nothing else "
              "that affects safety happened only in the treated areas at the same time. With "
              "two waves the parallel trends cannot be tested.",
    },
    "estimator.assumptions.callaway_santanna": {
        "sv": "Antaganden: parallella trender mellan varje grupp och de områden som ännu inte "
              "fått någon åtgärd (prövas med vågorna före åtgärden, se händelsestudien); ingen "
              "effekt före arbetets start; ett behandlat område förblir behandlat; "
              "kontrollområdena påverkas inte av åtgärden. Osäkerheten räknar med både "
              "urvalsfelet och att områden varierar slumpmässigt från våg till våg (τ²).",
        "en": "Assumptions: parallel trends between each group and the areas not yet treated "
              "(tested with the waves before the investment, see the event study); no effect "
              "before the work starts; a treated area stays treated; the control areas are not "
              "affected by the investment. The uncertainty counts both sampling error and "
              "random area-by-wave variation (τ²).",
    },
    "estimator.assumptions.synthetic_control": {
        "sv": "Antaganden: en viktad kombination av kontrollområden (icke-negativa vikter som "
              "summerar till ett) som följer området väl före åtgärden hade fortsatt att göra "
              "det utan åtgärden; inget annat hände bara i området eller i de viktade "
              "kontrollområdena. Osäkerheten prövas genom att göra samma skattning för varje "
              "kontrollområde (placebo), så p-värdet kan inte bli mindre än 1/(antal "
              "kontrollområden + 1).",
        "en": "Assumptions: a weighted combination of control areas (non-negative weights "
              "summing to one) that follows the area well before the investment would have "
              "kept doing so without it; nothing else happened only in the area or in the "
              "weighted control areas. The uncertainty is judged by repeating the estimate for "
              "every control area (placebos), so the p-value cannot fall below 1/(number of "
              "control areas + 1).",
    },
    "estimator.es_xlabel": {
        "sv": "Händelsetid (vågor före/efter färdigställande)",
        "en": "Event time (waves before/after completion)",
    },
    "estimator.es_ylabel": {"sv": "Effekt (procentenheter)", "en": "Effect (percentage points)"},
    "estimator.es_title": {
        "sv": "{kind}: händelsestudie (negativt = tryggare)",
        "en": "{kind}: event study (negative = safer)",
    },
    "estimator.es_note": {
        "sv": "Referens: vågen före arbetet (−1) = 0. Staplar: [[level]] konfidensintervall "
              "med urvalsfel och variation mellan områden.",
        "en": "Reference: the wave before the work (−1) = 0. Bars: [[level]] confidence "
              "intervals with sampling error and area-to-area variation.",
    },
    "estimator.es_pretrend": {
        "sv": "Test av trender före åtgärden: p = {p}",
        "en": "Test of the trends before the investment: p = {p}",
    },
    # ---- design: why an area has its role (``reason`` codes of trygg_geo.design)
    "role.investment_in_window": {
        "sv": "Har en investering som färdigställdes inom studieperioden.",
        "en": "Holds an investment completed inside the study window.",
    },
    "role.treated_before_window": {
        "sv": "Redan behandlat: en investering färdigställdes före den första mätvågen.",
        "en": "Already treated: an investment was completed before the first wave.",
    },
    "role.completion_date_missing": {
        "sv": "Har en investering utan datum för färdigställande (tidpunkten är okänd).",
        "en": "Holds an investment without a completion date (timing unknown).",
    },
    "role.adjacent_to_treated": {
        "sv": "Delar gräns eller hörn med ett behandlat område.",
        "en": "Shares a boundary or corner with a treated area.",
    },
    "role.within_distance": {
        "sv": "Ligger inom spilleffektavståndet från en investering.",
        "en": "Lies within the spillover distance of an investment.",
    },
    "role.partial_overlap": {
        "sv": "En investering täcker en mindre del av området än min_share.",
        "en": "Overlapped by an investment by less than min_share.",
    },
    "role.investment_after_window": {
        "sv": "Inte behandlat under studieperioden (investeringen kom efter den sista mätvågen).",
        "en": "Never treated in the window (its investment came after the last wave).",
    },
    "role.never_treated": {
        "sv": "Inte behandlat under studieperioden.",
        "en": "Never treated in the window.",
    },
    "role.unplaced_investment": {
        "sv": "En investering här kunde inte placeras, så området kan vara behandlat.",
        "en": "An investment here could not be placed, so the area may be treated.",
    },
    "role.small_survey_cell": {
        "sv": "Färre svar än min_n i en mätvåg, så området används inte som kontroll.",
        "en": "Fewer answers than min_n in a study wave, so not used as a control.",
    },
    "role.started_before_window": {
        "sv": "Arbetet började före den första mätvågen, så det finns ingen mätning före "
              "åtgärden.",
        "en": "The work started before the first wave, so there is no measurement before it.",
    },
    "role.ongoing_work": {
        "sv": "Pågående arbete i området under mätperioden.",
        "en": "Work in progress in the area during the study period.",
    },
    "role.cancelled_with_work": {
        "sv": "Ett avbrutet projekt här har ändå använt pengar, så arbete kan ha utförts.",
        "en": "A cancelled project here still spent money, so work may have been done.",
    },
    "role.work_in_last_window": {
        "sv": "Arbete pågick när den sista mätvågen gjordes (klart först efter den).",
        "en": "Work was under way when the last wave was fielded (finished after it).",
    },
    "role.no_survey": {
        "sv": "Ingen mätning: enkäten har inga svar från området.",
        "en": "Not measured: the survey has no answers from the area.",
    },
    "role.survey_wave_missing": {
        "sv": "Mätning saknas i någon av studiens mätvågor, så området används inte som "
              "kontroll.",
        "en": "Not measured in every study wave, so not used as a control.",
    },
    # investments that design places in no area
    "role.empty_geometry": {
        "sv": "Investeringen saknar geometri.", "en": "The investment has no geometry."},
    "role.outside_all_areas": {
        "sv": "Investeringen ligger inte i något område.", "en": "The investment lies in no area."},
    # units left out of matching (design.match_controls; the code is followed by details)
    "role.missing_pre_period": {
        "sv": "Värden saknas (eller är undertryckta) i någon mätvåg före åtgärden.",
        "en": "No value (or a suppressed one) in some wave before the investment.",
    },
    "role.cohort_not_after_pre_waves": {
        "sv": "Behandlat redan under förperioden, så det kan inte matchas.",
        "en": "Treated during the pre-period, so it cannot be matched.",
    },
    # ---- disclosure
    "disclosure.suppressed": {
        "sv": "Redovisas inte: skattningen vilar på en enkätcell med färre än {min_n} svar "
              "och skulle avslöja den.",
        "en": "Not published: the estimate rests on a survey cell with fewer than {min_n} answers "
              "and would disclose it.",
    },
    # ---- density raster
    "density.unit": {"sv": "antal per km²", "en": "incidents per km²"},
    "density.describe": {
        "sv": "Täthet av händelser ({unit}); kärna {kernel}, bandbredd {bandwidth:.0f} m, "
              "cell {cell_size:g} m, n={n_points}",
        "en": "Incident density ({unit}); {kernel} kernel, bandwidth {bandwidth:.0f} m, "
              "cell {cell_size:g} m, n={n_points}",
    },
    # ---- displacement (WDQ) interpretations, by code
    "wdq.diffusion_greater_than_direct": {
        "sv": "Spridning av positiva effekter, större än den direkta effekten",
        "en": "Diffusion of benefits, greater than the direct effect",
    },
    "wdq.diffusion": {"sv": "Spridning av positiva effekter", "en": "Diffusion of benefits"},
    "wdq.no_displacement_or_diffusion": {
        "sv": "Varken förflyttning eller spridning av positiva effekter",
        "en": "Neither displacement nor diffusion of benefits",
    },
    "wdq.displacement_less_than_direct": {
        "sv": "Förflyttning, mindre än den direkta effekten (en nettovinst)",
        "en": "Displacement, smaller than the direct effect (a net benefit)",
    },
    "wdq.displacement_greater_than_direct": {
        "sv": "Förflyttning, större än den direkta effekten (kontraproduktivt)",
        "en": "Displacement, greater than the direct effect (counterproductive)",
    },
    "wdq.no_success": {
        "sv": "Ej entydigt: ingen minskning i insatsområdet jämfört med kontrollområdet",
        "en": "Inconclusive: no fall in the treated area relative to the control area",
    },
    "wdq.undefined": {
        "sv": "Ej entydigt: kan inte beräknas (nollvärden)",
        "en": "Inconclusive: cannot be computed (zero counts)",
    },
    # ---- geocoding (trygg_geo.geocode): why a register row is unplaced, by ``reason`` code
    "geocode.empty_address": {
        "sv": "Raden saknar adress, koordinater och geometri.",
        "en": "The row has no address, no coordinates and no geometry.",
    },
    "geocode.only_district": {
        "sv": "Adressen anger bara en stadsdel eller ett område ('{text}'), vilket är för grovt "
              "för att placera en investering. Ange en gatuadress, ett platsnamn eller "
              "koordinater.",
        "en": "The address only names a district or area ('{text}'), too coarse to place an "
              "investment. Give a street address, a place name or coordinates.",
    },
    "geocode.no_match": {
        "sv": "Ingen adress, gata eller plats i adressdatan stämmer med '{text}'.",
        "en": "No address, street or place in the gazetteer matches '{text}'.",
    },
    "geocode.no_intersection": {
        "sv": "Gatorna i '{text}' finns men möts inte i adressdatan.",
        "en": "The streets in '{text}' were found but do not meet in the gazetteer.",
    },
    "geocode.impossible_coordinates": {
        "sv": "Koordinaterna ({x}, {y}) passar inget koordinatsystem som används i "
              "Sverige{declared}. Kontrollera x/y-kolumnerna och koordinatsystemet.",
        "en": "The coordinates ({x}, {y}) fit no coordinate system used in Sweden{declared}. "
              "Check the x/y columns and the CRS.",
    },
    "geocode.address_too_long": {
        "sv": "Adressen är {length} tecken lång, längre än någon verklig adress; bara de första "
              "{limit} tecknen prövades, och de stämmer inte med något ('{text}'). Korta den "
              "till gatuadressen eller platsen.",
        "en": "The address is {length} characters long, longer than any real address; only its "
              "first {limit} characters were tried, and they match nothing ('{text}'). Shorten "
              "it to the street address or place.",
    },
    "geocode.other_script": {
        "sv": "Adressen '{text}' är skriven med andra än latinska bokstäver; adressdatan har "
              "svenska namn.",
        "en": "The address '{text}' is written in a script other than Latin; the gazetteer "
              "holds Swedish names.",
    },
    "geocode.bad_encoding": {
        "sv": "Adressen '{text}' har tecken som förstörts av fel teckenkodning. Spara registret "
              "som 'CSV UTF-8' eller .xlsx.",
        "en": "The address '{text}' has characters lost to a wrong file encoding. Save the "
              "register as 'CSV UTF-8' or .xlsx.",
    },
    "geocode.bad_wkt": {
        "sv": "WKT-geometrin gick inte att läsa och raden har ingen adress att använda i stället.",
        "en": "The WKT geometry could not be read and the row has no address to fall back on.",
    },
    # parts of the reasons above
    "geocode.also_flagged": {"sv": " Flaggor även: {flags}.", "en": " Also flagged: {flags}."},
    "geocode.declared": {"sv": " (angivet: {crs}; {hint})", "en": " (declared: {crs}; {hint})"},
    "geocode.hint": {"sv": " ({hint})", "en": " ({hint})"},
    "geocode.xy_missing": {"sv": " (x eller y saknas)", "en": " (x or y is missing)"},
    "geocode.hint_empty": {
        "sv": "koordinaterna är tomma eller inte ändliga",
        "en": "the coordinates are empty or not finite",
    },
    "geocode.hint_none": {
        "sv": "talen passar inget koordinatsystem som används i Sverige",
        "en": "the numbers fit no coordinate system used in Sweden",
    },
    "geocode.hint_swapped": {
        "sv": "x och y ser ut att ha bytt plats (x har nordvärdet eller latituden, y östvärdet "
              "eller longituden)",
        "en": "x and y look swapped (x holds the northing or latitude, y the easting or "
              "longitude)",
    },
    "geocode.hint_crs": {
        "sv": "talen ser ut som koordinater i {crs}",
        "en": "the numbers look like {crs} coordinates"},
    "geocode.hint_crs_swapped": {
        "sv": "talen ser ut som koordinater i {crs} med x och y omkastade",
        "en": "the numbers look like {crs} coordinates with x and y swapped",
    },
    "geocode.hint_not": {"sv": ", inte {crs}", "en": ", not {crs}"},
    # what a geocoding flag (``geocode_flag``) means, by flag
    "geocode.flag.text_truncated": {
        "sv": "adressen var för lång och kortades", "en": "the address was too long and was cut"},
    "geocode.flag.encoding_repaired": {
        "sv": "tecken förstörda av fel teckenkodning lagades",
        "en": "characters lost to a wrong encoding were repaired"},
    "geocode.flag.duplicate_row": {
        "sv": "exakt dubblett av en tidigare rad", "en": "exact duplicate of an earlier row"},
    "geocode.flag.duplicate_id": {
        "sv": "samma id som en tidigare rad, annat innehåll",
        "en": "same id as an earlier row, other contents"},
    "geocode.flag.kind_unknown": {
        "sv": "åtgärdstypen känns inte igen", "en": "the kind is not recognised"},
    "geocode.flag.ambiguous": {
        "sv": "adressen finns på flera platser mer än 100 m isär",
        "en": "the address exists in places more than 100 m apart"},
    "geocode.flag.diacritics_folded": {
        "sv": "gatan hittades först när å, ä och ö jämställdes med a och o",
        "en": "the street was found only with å, ä and ö read as a and o"},
    "geocode.flag.letter_not_found": {
        "sv": "husnumrets bokstav finns inte; numret användes",
        "en": "the house letter does not exist; the number was used"},
    "geocode.flag.letter_assumed": {
        "sv": "numret finns bara med bokstav (57A, 57B ...); den första användes",
        "en": "the number exists only with a letter (57A, 57B, ...); the first was used"},
    "geocode.flag.range_end_not_found": {
        "sv": "slutnumret i intervallet finns inte",
        "en": "the end of the number range is missing"},
    "geocode.flag.number_not_found": {
        "sv": "husnumret finns inte; hela gatan användes",
        "en": "the house number does not exist; the whole street was used"},
    "geocode.flag.fuzzy_street": {
        "sv": "gatunamnet var felstavat och matchades ungefärligt",
        "en": "the street name was misspelt and matched approximately"},
    "geocode.flag.intersection_geometric": {
        "sv": "korsningen beräknades där gatorna möts geometriskt",
        "en": "the intersection was computed where the streets meet geometrically"},
    "geocode.flag.between_straight": {
        "sv": "sträckan ritades som en rak linje",
        "en": "the stretch was drawn as a straight line"},
    "geocode.flag.street_level": {
        "sv": "placerad på gatan, utan husnummer", "en": "placed on the street, without a number"},
    "geocode.flag.outside_extent": {
        "sv": "ligger utanför studieområdet", "en": "lies outside the study area"},
    "geocode.flag.coordinates_disagree": {
        "sv": "radens koordinater ligger mer än 250 m från adressen",
        "en": "the row's coordinates lie more than 250 m from the address"},
    "geocode.flag.bad_wkt": {
        "sv": "WKT-geometrin gick inte att läsa", "en": "the WKT geometry could not be read"},
    "geocode.flag.buffered": {
        "sv": "ytan är en buffert kring punkten eller linjen",
        "en": "the polygon is a buffer around the point or line"},
    "geocode.flag.snapped_to_street": {
        "sv": "linjen är närmaste gata", "en": "the line is the nearest street"},
    "geocode.flag.point_for_line": {
        "sv": "ingen gata i närheten; ritad som punkt", "en": "no street nearby; drawn as a point"},
    "geocode.flag.swapped_xy": {
        "sv": "x och y hade bytt plats", "en": "x and y were swapped"},
    "geocode.flag.crs_detected": {
        "sv": "koordinatsystemet gissades", "en": "the coordinate system was detected"},
    "geocode.flag.crs_mismatch": {
        "sv": "koordinaterna passade inte det angivna koordinatsystemet",
        "en": "the coordinates did not fit the declared coordinate system"},
    "geocode.flag.district_from_address_point": {
        "sv": "stadsdelen är adresspunktens; gatulinjen klipptes eller flyttades dit",
        "en": "the district is the address point's; the street line was clipped or moved there"},
    "geocode.flag.district_from_register": {
        "sv": "gatan går genom flera stadsdelar; registrets stadsdel avgjorde",
        "en": "the street crosses districts; the register's district decided"},
    "geocode.flag.district_mismatch": {
        "sv": "registrets stadsdel är en annan än platsens",
        "en": "the register names another district than the location's"},
    # the ``trygg-geo geocode`` summary
    "geocode.summary_placed": {"sv": "Placerade, per metod", "en": "Placed, per method"},
    "geocode.summary_unplaced": {"sv": "Ej placerade, per orsak", "en": "Unplaced, per reason"},
    "geocode.summary_flag": {
        "sv": "Flaggade rader, per flagga (en rad kan ha flera)",
        "en": "Flagged rows, per flag (a row can carry several)"},
    "geocode.summary_total": {"sv": "Summor", "en": "Totals"},
    "geocode.summary_none": {"sv": "  (inga)", "en": "  (none)"},
    "geocode.total_placed": {"sv": "placerade", "en": "placed"},
    "geocode.total_unplaced": {"sv": "ej placerade", "en": "unplaced"},
    "geocode.total_rows": {"sv": "rader", "en": "rows"},
    "geocode.cli_register": {
        "sv": "Register: {path} ({n} rader)", "en": "Register: {path} ({n} rows)"},
    "geocode.cli_gazetteer": {
        "sv": "Adressdata: {path} ({n_addr} adresser, {n_streets} gator, {n_places} platser)",
        "en": "Gazetteer: {path} ({n_addr} addresses, {n_streets} streets, {n_places} places)"},
    "geocode.cli_written": {"sv": "Skrivet: {path} ({layers})", "en": "Written: {path} ({layers})"},
    # ---- kinds of intervention (trygg_geo.interventions), by kind id
    "kind.belysning": {"sv": "Belysning", "en": "Lighting"},
    "kind.slyrojning": {"sv": "Slyröjning", "en": "Brush clearance"},
    "kind.kamerabevakning": {"sv": "Kamerabevakning", "en": "Camera surveillance"},
    "kind.klottersanering": {"sv": "Klottersanering", "en": "Graffiti removal"},
    "kind.utemiljo": {"sv": "Upprustning av utemiljö", "en": "Public space upgrade"},
    "kind.trygghetsvandring": {"sv": "Trygghetsvandring", "en": "Safety walk"},
    "kind.annat": {"sv": "Annat", "en": "Other"},
    # ---- the map
    "map.title": {"sv": "Trygghetsinvesteringar", "en": "Safety investments"},
    "map.areas": {"sv": "Områden", "en": "Areas"},
    "map.choropleth": {"sv": "Förändring", "en": "Change"},
    "map.name": {"sv": "Namn", "en": "Name"},
    "map.parent": {"sv": "Stadsdelsområde", "en": "District group"},
    "map.change": {"sv": "Förändring", "en": "Change"},
    "map.n": {"sv": "Antal svar", "en": "Respondents"},
    "map.pp": {"sv": "procentenheter", "en": "percentage points"},
    "map.pp_short": {"sv": "p.e.", "en": "pp"},
    "map.ci": {"sv": "[[level]] KI", "en": "[[level]] CI"},
    "map.to": {"sv": "till", "en": "to"},
    "map.suppressed": {"sv": "för få svar", "en": "too few responses"},
    "map.not_significant": {"sv": "ej signifikant förändring", "en": "change not significant"},
    "map.missing": {"sv": "ingen mätning", "en": "not measured"},
    "map.kind": {"sv": "Åtgärd", "en": "Measure"},
    "map.board": {"sv": "Nämnd", "en": "Board"},
    "map.granted": {"sv": "Beviljat", "en": "Granted"},
    "map.spent": {"sv": "Nyttjat", "en": "Spent"},
    "map.completed": {"sv": "Färdigställd", "en": "Completed"},
    "map.effect": {"sv": "Effekt", "en": "Effect"},
    "map.no_effect": {"sv": "effekt ej beräknad", "en": "effect not estimated"},
    "map.mde": {"sv": "MDE", "en": "MDE"},
    "map.id": {"sv": "Id", "en": "Id"},
    "map.placed_by": {"sv": "Placering", "en": "Placed by"},
    "map.treated": {"sv": "Behandlade områden", "en": "Treated areas"},
    "map.control": {"sv": "Kontrollområden", "en": "Control areas"},
    "map.spill": {"sv": "Spillområden", "en": "Spillover areas"},
    "map.excluded": {"sv": "Exkluderade områden", "en": "Excluded areas"},
    "map.role": {"sv": "Roll", "en": "Role"},
    "map.investment_ids": {"sv": "Investeringar", "en": "Investments"},
    "map.hotspots": {"sv": "Otrygga platser", "en": "Unsafe places"},
    "map.hot": {"sv": "Het punkt (signifikant)", "en": "Hot spot (significant)"},
    "map.cold": {"sv": "Kall punkt (signifikant)", "en": "Cold spot (significant)"},
    "map.ns": {"sv": "Ej signifikant", "en": "Not significant"},
    "map.gi_z": {"sv": "Gi* z", "en": "Gi* z"},
    "map.gi_p": {"sv": "p-värde", "en": "p-value"},
    "map.count": {"sv": "Antal", "en": "Count"},
    "map.density": {"sv": "Täthet", "en": "Density"},
    "map.low": {"sv": "låg", "en": "low"},
    "map.high": {"sv": "hög", "en": "high"},
    "map.search": {"sv": "Sök område", "en": "Search area"},
    "map.fullscreen": {"sv": "Helskärm", "en": "Full screen"},
    "map.fullscreen_exit": {"sv": "Avsluta helskärm", "en": "Exit full screen"},
    "map.legend": {"sv": "Teckenförklaring", "en": "Legend"},
    "map.investments": {"sv": "Investeringar", "en": "Investments"},
    # ---- the map above [map] max_markers: sums per area (issue 17)
    "map.inv_areas": {"sv": "Investeringar per område", "en": "Investments per area"},
    "map.inv_count": {"sv": "Antal investeringar", "en": "Number of investments"},
    "map.inv_kinds": {"sv": "Åtgärder", "en": "Measures"},
    "map.inv_aggregated": {
        "sv": "{n} placerade investeringar är fler än kartans gräns ({limit}), så kartan visar "
              "antal, pengar och åtgärder per område. Varje investering finns i {source} "
              "(lagren {layers}).",
        "en": "{n} placed investments are more than the map's limit ({limit}), so the map shows "
              "the number, money and measures per area. Every investment is in {source} "
              "(layers {layers}).",
    },
    "map.inv_detail_default": {"sv": "GeoPackage-filen", "en": "the GeoPackage"},
    "map.inv_outside": {
        "sv": "{n} av dem ligger utanför områdena och ingår inte i summorna.",
        "en": "{n} of them lie outside the areas and are not in the sums.",
    },
    "map.more_investments": {"sv": "och {n} till (alla i GeoPackage-filen)",
                             "en": "and {n} more (all in the GeoPackage)"},
    "map.tiles": {"sv": "Bakgrundskarta", "en": "Background map"},
    "map.class_legend": {"sv": "Förändring (procentenheter)", "en": "Change (percentage points)"},
    "map.hot_legend": {"sv": "Otrygga platser (Gi*)", "en": "Unsafe places (Gi*)"},
    # ---- the lägesbild on the map (trygg_geo._map_places): layers, popups, patterns
    "places_map.ranking": {"sv": "Förslag: var åtgärda härnäst", "en": "Where to act next"},
    "places_map.dark": {"sv": "Mörka stråk", "en": "Dark paths"},
    "places_map.repeated": {
        "sv": "Platser som invånare pekar ut",
        "en": "Places residents point out"},
    "places_map.emerging": {"sv": "Otrygga platser över tid", "en": "Unsafe places over time"},
    "places_map.rank": {"sv": "Rang", "en": "Rank"},
    "places_map.score": {"sv": "Poäng (0–1)", "en": "Score (0–1)"},
    "places_map.reports": {"sv": "Rapporter", "en": "Reports"},
    "places_map.incidents": {"sv": "Händelser per hektar", "en": "Incidents per hectare"},
    "places_map.dark_m": {"sv": "Mörka stråk (m)", "en": "Dark paths (m)"},
    "places_map.recent": {"sv": "Nyliga investeringar", "en": "Recent investments"},
    "places_map.weights": {"sv": "Vikter", "en": "Weights"},
    "places_map.inputs": {"sv": "Poäng per indata", "en": "Score per input"},
    "places_map.n_reports": {"sv": "Antal rapporter", "en": "Reports"},
    "places_map.categories": {"sv": "Kategorier", "en": "Categories"},
    "places_map.pattern": {"sv": "Mönster", "en": "Pattern"},
    "places_map.length": {"sv": "Längd (m)", "en": "Length (m)"},
    "places_map.highway": {"sv": "Typ", "en": "Type"},
    "places_map.aid": {
        "sv": "Beslutsstöd, inte en dom: alla indata och vikter visas.",
        "en": "A decision aid, not a verdict: every input and weight is shown."},
    "places_map.cells": {"sv": "Rutor", "en": "Cells"},
    "places_map.none": {"sv": "–", "en": "–"},
    "places_map.new": {"sv": "Ny", "en": "New"},
    "places_map.intensifying": {"sv": "Tilltagande", "en": "Intensifying"},
    "places_map.consecutive": {"sv": "I följd", "en": "Consecutive"},
    "places_map.persistent": {"sv": "Ihållande", "en": "Persistent"},
    "places_map.sporadic": {"sv": "Sporadisk", "en": "Sporadic"},
    "places_map.oscillating": {"sv": "Växlande", "en": "Oscillating"},
    "places_map.diminishing": {"sv": "Avtagande", "en": "Diminishing"},
    "places_map.historical": {"sv": "Historisk", "en": "Historical"},
    "places_map.disappeared": {"sv": "Försvunnen", "en": "Disappeared"},
    # ---- why a part of the lägesbild is missing (trygg_geo.lagesbild, notes)
    "lagesbild.no_osm": {
        "sv": "Mörka stråk kräver OSM-data ([gazetteer] path som .osm).",
        "en": "Dark paths need OSM data ([gazetteer] path as .osm)."},
    "lagesbild.no_reports": {
        "sv": "Inga invånarrapporter angivna ([reports]).",
        "en": "No resident reports given ([reports])."},
    "lagesbild.no_incidents": {
        "sv": "Inga händelser angivna ([incidents]): inga otrygga platser.",
        "en": "No incidents given ([incidents]): no unsafe places."},
    "lagesbild.no_dates": {
        "sv": "Händelserna saknar datum över minst två år: ingen analys över tid.",
        "en": "The incidents lack dates over two years or more: no analysis over time."},
    "lagesbild.nothing_to_rank": {
        "sv": "Varken rapporter, händelser eller mörka stråk: ingen rangordning.",
        "en": "No reports, incidents or dark paths: no ranking."},
    # ---- resident reports that could not be placed (trygg_geo.places, by reason code)
    "places.no_location": {
        "sv": "Varken koordinater eller adress.",
        "en": "Neither coordinates nor an address."},
    "places.no_gazetteer": {
        "sv": "Bara adress, men ingen adresskälla (gazetteer) angiven.",
        "en": "An address only, and no gazetteer given."},
    "places.no_geometry": {"sv": "Objektet saknar geometri.", "en": "The feature has no geometry."},
    "places.bad_coordinates": {
        "sv": "Koordinaterna (X/Y) går inte att läsa som tal; rätta cellen.",
        "en": "The coordinates (X/Y) are not numbers; correct the cell."},
    # ---- the short verdict of a planned investment (trygg_geo.plan.VERDICTS, by code)
    "plan_verdict.matbar": {"sv": "mätbar", "en": "measurable"},
    "plan_verdict.matbar_sammanslagen": {
        "sv": "mätbar bara sammanslagen per åtgärdstyp",
        "en": "measurable only pooled per kind"},
    "plan_verdict.inte_matbar": {
        "sv": "inte mätbar med nuvarande urval",
        "en": "not measurable with the current sample"},
    # ---- the note of a planned investment (trygg_geo.plan, column note)
    "plan.note_outside": {
        "sv": "utanför områdena eller i ett område utan mätning",
        "en": "outside the areas or in an area without survey"},
    "plan.note_no_extra": {
        "sv": "kontrollernas osäkerhet och variationen mellan områden och mätningar är för "
              "stora: inga extra svar räcker",
        "en": "the controls' uncertainty and the between-district variance are too large: no "
              "number of respondents suffices"},
    # ---- the one-line answers of the command line (--quiet) and of init
    "cli.quiet_result": {
        "sv": "Klart: {n} registerrader ({placed} placerade, {unplaced} ej placerade); effekt "
              "skattad för {est} av {kinds} åtgärdstyper; resultat i '{folder}'.",
        "en": "Done: {n} register rows ({placed} placed, {unplaced} unplaced); effect estimated "
              "for {est} of {kinds} kinds; outputs in '{folder}'.",
    },
    "cli.quiet_plan": {
        "sv": "Klart: plan för vågen {wave}, {n} investeringar ({matbar} mätbara, {pooled} "
              "mätbara sammanslagna, {not_} inte mätbara); skrivet i '{folder}'.",
        "en": "Done: plan for the {wave} wave, {n} investments ({matbar} measurable, {pooled} "
              "measurable pooled, {not_} not measurable); written to '{folder}'.",
    },
    "cli.init_written": {
        "sv": "Skrivet i '{folder}': {config} (kommenterad, alla sektioner) och exempelfilerna "
              "{files}. Byt filerna mot era egna och ändra {config}; kör först som den är:",
        "en": "Written to '{folder}': {config} (commented, every section) and the example files "
              "{files}. Replace the files with your own and edit {config}; first run it as it "
              "is:",
    },
    "cli.init_quiet": {
        "sv": "Skrivet: {config} och {n} exempelfiler. Kör: trygg-geo run {config}",
        "en": "Written: {config} and {n} example files. Run: trygg-geo run {config}"},
    # ---- init refused: the folder is not empty (trygg_geo.init_project.FolderNotEmptyError)
    "init.folder_not_empty": {
        "sv": "mappen '{folder}' är inte tom (den innehåller {shown}), och init skriver inte "
              "över filer. Gör så här: ange en ny eller tom mapp, t.ex. trygg-geo init "
              "mitt_projekt, eller lägg till --force för att ersätta exempelfilerna ({config}, "
              "{files}) i den här mappen.",
        "en": "the folder '{folder}' is not empty (it holds {shown}), and init does not "
              "overwrite files. Fix: give a new or empty folder, e.g. trygg-geo init "
              "my_project, or add --force to replace the example files ({config}, {files}) in "
              "this folder.",
    },
    # ---- QGIS styles (layers/_qml.py): Gi* confidence bins and the other-values class
    "qml.hot_99": {"sv": "Het fläck (99 %)", "en": "Hot spot (99%)"},
    "qml.hot_95": {"sv": "Het fläck (95 %)", "en": "Hot spot (95%)"},
    "qml.hot_90": {"sv": "Het fläck (90 %)", "en": "Hot spot (90%)"},
    "qml.not_significant": {"sv": "Inte signifikant", "en": "Not significant"},
    "qml.cold_90": {"sv": "Kall fläck (90 %)", "en": "Cold spot (90%)"},
    "qml.cold_95": {"sv": "Kall fläck (95 %)", "en": "Cold spot (95%)"},
    "qml.cold_99": {"sv": "Kall fläck (99 %)", "en": "Cold spot (99%)"},
    "qml.other_values": {"sv": "Övriga värden", "en": "Other values"},
    # ---- how an investment was placed (geocode_method), for popups
    "geocode_method.exact": {"sv": "Adress, exakt", "en": "Address, exact"},
    "geocode_method.normalised": {
        "sv": "Adress, normaliserad stavning", "en": "Address, normalised spelling"},
    "geocode_method.fuzzy": {"sv": "Adress, närmaste stavning", "en": "Address, nearest spelling"},
    "geocode_method.street": {"sv": "Gata (utan husnummer)", "en": "Street (no house number)"},
    "geocode_method.intersection": {"sv": "Korsning", "en": "Intersection"},
    "geocode_method.between": {
        "sv": "Gatusträcka mellan två gator", "en": "Street section between two streets"},
    "geocode_method.place": {
        "sv": "Plats (park, skola, station …)", "en": "Place (park, school, station …)"},
    "geocode_method.coordinates": {
        "sv": "Koordinater i registret", "en": "Coordinates in the register"},
    "geocode_method.wkt": {
        "sv": "Geometri (WKT) i registret", "en": "Geometry (WKT) in the register"},
    "geocode_method.provider": {"sv": "Extern geokodningstjänst", "en": "Online geocoding service"},
    "map.run": {"sv": "Körning", "en": "Run"},
    # ---- the map's legend sentence, popups, offline base map and phone buttons (issue 13)
    "map.legend_sentence": {"sv": "{indicator}: förändring {waves}procentenheter.",
                            "en": "{indicator}: change {waves}percentage points."},
    "map.safer_negative": {"sv": "Negativ = tryggare.", "en": "Negative = safer."},
    "map.safer_positive": {"sv": "Positiv = tryggare.", "en": "Positive = safer."},
    "map.indicator.otrygg_kvall": {
        "sv": "Andel som känner sig otrygga ute en sen kväll",
        "en": "Share who feel unsafe outdoors late in the evening"},
    "map.indicator.oro_brott": {"sv": "Andel som ofta oroar sig för brott",
                                "en": "Share often worried about crime"},
    "map.indicator.avstar_aktivitet": {
        "sv": "Andel som avstår från aktiviteter på grund av otrygghet",
        "en": "Share who refrain from an activity because they feel unsafe"},
    "map.indicator.trygg_hemvag": {
        "sv": "Andel som känner sig trygga att gå hem ensamma en kväll",
        "en": "Share who feel safe walking home alone in the evening"},
    "map.indicator_other": {"sv": "Indikatorn {indicator}", "en": "Indicator {indicator}"},
    "map.role_one.treated": {"sv": "Behandlat område", "en": "Treated area"},
    "map.role_one.control": {"sv": "Kontrollområde", "en": "Control area"},
    "map.role_one.spill": {"sv": "Spillområde", "en": "Spillover area"},
    "map.role_one.excluded": {"sv": "Exkluderat område", "en": "Excluded area"},
    "map.role_why": {"sv": "Varför", "en": "Why"},
    "map.p_adjusted": {"sv": "Justerat p ({method})", "en": "Adjusted p ({method})"},
    "map.p_value": {"sv": "p-värde", "en": "p-value"},
    "map.significant": {"sv": "signifikant", "en": "significant"},
    "map.estimator": {"sv": "Skattningsmetod", "en": "Estimator"},
    "map.n_effect": {"sv": "Antal svar (effekt)", "en": "Respondents (effect)"},
    "map.method.did_2x2": {"sv": "Differens-i-differenser (2×2)",
                           "en": "Difference-in-differences (2×2)"},
    "map.method.panel_did": {"sv": "Differens-i-differenser (panel)",
                             "en": "Difference-in-differences (panel)"},
    "map.method.callaway_santanna": {"sv": "Callaway–Sant'Anna", "en": "Callaway–Sant'Anna"},
    "map.method.synthetic_control": {"sv": "Syntetisk kontroll", "en": "Synthetic control"},
    "map.basemap": {"sv": "Gator, parker och vatten", "en": "Streets, parks and water"},
    "map.tiles_osm": {"sv": "OpenStreetMap (kräver nätverk)",
                      "en": "OpenStreetMap (needs network)"},
    "map.tiles_lm": {"sv": "Lantmäteriet topowebb (kräver nätverk)",
                     "en": "Lantmäteriet topowebb (needs network)"},
    "map.btn_about": {"sv": "Om kartan", "en": "About"},
    "map.btn_layers": {"sv": "Lager", "en": "Layers"},
    # ---- the report
    "report.title": {
        "sv": "Uppföljning av trygghetsinvesteringar", "en": "Follow-up of safety investments"},
    "report.generated": {
        "sv": "Skapad {date} med trygg_geo {version}.",
        "en": "Made {date} with trygg_geo {version}."},
    "report.run_id": {"sv": "Körning {run_id}.", "en": "Run {run_id}."},
    "report.summary": {"sv": "Sammanfattning", "en": "Summary"},
    "report.n_rows": {
        "sv": "Registret har {n} rader. {placed} placerades på kartan ({share}), {unplaced} kunde "
              "inte placeras.",
        "en": "The register has {n} rows. {placed} were placed on the map ({share}), {unplaced} "
              "could not be placed.",
    },
    "report.money": {
        "sv": "Beviljat totalt {granted}, nyttjat {spent}; överskott {surplus} ({share} av det "
              "beviljade).",
        "en": "Granted in total {granted}, spent {spent}; surplus {surplus} ({share} of the "
              "grant).",
    },
    # **...** is bold (the report splits the template on ** before the values go in)
    "report.indicator": {
        "sv": "Effekten mäts som förändringen i andelen som svarar ja på indikatorn "
              "**{indicator}** i trygghetsmätningen, jämfört med kontrollområden som inte fått "
              "någon investering.",
        "en": "The effect is the change in the share answering yes to the survey indicator "
              "**{indicator}**, compared with control areas that got no investment.",
    },
    "report.kinds": {"sv": "Effekter per åtgärdstyp", "en": "Effects per kind"},
    "report.kinds_intro": {
        "sv": "Negativa tal betyder att andelen minskade mer (eller ökade mindre) än i "
              "kontrollområdena. KI = [[level]] konfidensintervall. MDE = minsta effekt som "
              "designen kunde upptäcka (80 % styrka). p (permutationstest) jämför med alla sätt "
              "att välja lika många behandlade bland områdena (placebo i rummet) och bygger inte "
              "på antaganden om variansen.",
        "en": "Negative numbers mean that the share fell more (or rose less) than in the control "
              "areas. CI = [[level]] confidence interval. MDE = the smallest effect the design "
              "could detect (80% power). p (permutation) compares with every way of choosing as "
              "many treated areas (placebo in space) and makes no variance assumption.",
    },
    "report.projects": {"sv": "Per projekt", "en": "Per project"},
    "report.unbounded_interval": {
        "sv": "”−∞ till +∞”: med ett eller ett par behandlade områden och så här få "
              "kontrollområden kan permutationstestet inte utesluta någon effekt, hur stor "
              "den än är. Skattningen är då ett punktvärde utan stöd; läs effekten per "
              "åtgärdstyp och MDE i stället. Kostnaden per procentenhet får då ingen övre "
              "gräns (”–∞”).",
        "en": "\"−∞ to +∞\": with one or two treated areas and this few control areas, the "
              "permutation test cannot rule out any effect, however large. The estimate is "
              "then a point value without support; read the effect per kind and the MDE "
              "instead. The cost per percentage point then has no upper bound (\"–∞\").",
    },
    "report.projects_intro": {
        "sv": "Effekten per projekt är effekten i de behandlade områden projektet når (en "
              "belysningssträcka över en områdesgräns räknas i båda): projekt i samma område "
              "delar den, och kostnaden per procentenhet räknas på allt som nyttjats där, "
              "fördelat efter hur stor del av varje projekt som ligger i området.",
        "en": "The effect per project is the effect in the treated areas the project reaches (a "
              "lighting stretch across an area boundary counts in both): projects in one area "
              "share it, and the cost per point uses everything spent there, split by the share "
              "of each project that lies in the area.",
    },
    "report.areas": {"sv": "Per område", "en": "Per area"},
    "report.bokslut": {"sv": "Årligt bokslut", "en": "Yearly key figures"},
    "report.trends": {
        "sv": "Trender: behandlade mot kontrollområden",
        "en": "Trends: treated versus control areas"},
    "report.trend_treated": {"sv": "Behandlade", "en": "Treated"},
    "report.trend_controls": {"sv": "Kontroller", "en": "Controls"},
    # the first page (the bokslut a nämnd reads first)
    "report.front": {"sv": "Bokslut i korthet", "en": "Summary of accounts"},
    "report.front_money": {
        "sv": "Pengar och genomförande", "en": "Money and completion"},
    "report.front_measured": {"sv": "Vad kunde mätas", "en": "What could be measured"},
    "report.front_measured_intro": {
        "sv": "Varje projekt räknas en gång (exakta dubbletter räknas inte igen). Ett projekt "
              "utan effekt har alltid ett skäl; skälen står också i tabellen Per projekt.",
        "en": "Each project is counted once (exact duplicates are not counted again). A project "
              "without an effect always has a reason; the reasons are also in the Per project "
              "table.",
    },
    "report.front_results": {"sv": "Resultat per åtgärdstyp", "en": "Results per kind"},
    "report.surplus_note": {
        "sv": "Överskottet räknas för avslutade projekt (genomförda och avbrutna) med både "
              "beviljat och nyttjat belopp. {n} projekt ingår inte i det: de pågår, är "
              "planerade, har okänt läge eller saknar nyttjat belopp (beviljat {granted}).",
        "en": "The surplus counts finished projects (completed and cancelled) with both a "
              "granted and a spent amount. {n} projects are not in it: they are ongoing, "
              "planned, of unknown status or have no spent amount (granted {granted}).",
    },
    "report.col_status": {"sv": "Läge", "en": "Status"},
    "report.status_unknown": {
        "sv": "okänt (varken status eller datum)", "en": "unknown (no status or date)"},
    "report.total": {"sv": "Totalt", "en": "Total"},
    "report.col_outcome": {"sv": "Utfall", "en": "Outcome"},
    "report.col_projects": {"sv": "Antal projekt", "en": "Projects"},
    "report.measured": {"sv": "Effekt skattad", "en": "Effect estimated"},
    "report.not_placed": {
        "sv": "Kunde inte placeras på kartan (se Ej placerade)",
        "en": "Could not be placed on the map (see Unplaced)"},
    "report.reason_missing": {
        "sv": "Ingen skattning (skäl saknas)", "en": "No estimate (no reason given)"},
    "report.kinds_measured": {
        "sv": "Åtgärdstyper med en skattad effekt: {k} av {n}.",
        "en": "Kinds with an estimated effect: {k} of {n}.",
    },
    "report.col_effect_or_reason": {
        "sv": "Effekt, procentenheter ([[level]] KI), eller varför ingen",
        "en": "Effect, percentage points ([[level]] CI), or why none"},
    "report.col_cost_ci": {
        "sv": "Kr per procentenhet (intervall)", "en": "SEK per point (interval)"},
    "report.effect_ci": {"sv": "{est} ({lo} till {hi})", "en": "{est} ({lo} to {hi})"},
    # ---- long tables: the report shows a part, projekt.csv and the GeoPackage all (issue 17)
    "report.projects_shown": {
        "sv": "Tabellen visar {shown} av {n} projekt, högst {k} per område. Alla {n} finns i "
              "{csv} bredvid rapporten (semikolonseparerad, öppnas i Excel), de placerade också "
              "i {gpkg} (lagren investeringar_punkt, investeringar_linje och investeringar_yta).",
        "en": "The table shows {shown} of {n} projects, at most {k} per area. All {n} are in "
              "{csv} beside the report (semicolon-separated, opens in Excel), the placed ones "
              "also in {gpkg} (layers investeringar_punkt, investeringar_linje and "
              "investeringar_yta).",
    },
    "report.rows_shown": {
        "sv": "Tabellen visar de första {shown} av {n} raderna; alla finns i {where}.",
        "en": "The table shows the first {shown} of {n} rows; all are in {where}.",
    },
    "report.where_unplaced": {
        "sv": "{csv} (med orsaken) och i lagret ej_placerade i {gpkg}",
        "en": "{csv} (with the reason) and in the layer ej_placerade of {gpkg}",
    },
    "report.where_duplicates": {"sv": "{csv} (kolumnen Dubblett)",
                                "en": "{csv} (column Duplicate)"},
    "report.where_estimates": {"sv": "lagret effekter i {gpkg}",
                               "en": "the layer effekter of {gpkg}"},
    "report.notes_more": {
        "sv": "… och {n} anmärkningar till (alla står i körningens logg).",
        "en": "… and {n} more notes (all are in the run's log).",
    },
    "report.rows_more": {"sv": "… och {n} rader till", "en": "… and {n} more rows"},
    "report.col_row_csv": {"sv": "Rad i registret", "en": "Register row"},
    "report.col_granted_kr": {"sv": "Beviljat (kr)", "en": "Granted (SEK)"},
    "report.col_spent_kr": {"sv": "Nyttjat (kr)", "en": "Spent (SEK)"},
    "report.col_surplus_kr": {"sv": "Överskott (kr)", "en": "Surplus (SEK)"},
    "report.col_estimate_pp": {"sv": "Effekt (procentenheter)", "en": "Effect (percentage points)"},
    "report.col_ci_low_pp": {"sv": "KI nedre", "en": "CI low"},
    "report.col_ci_high_pp": {"sv": "KI övre", "en": "CI high"},
    # per area
    "report.col_role": {"sv": "Roll", "en": "Role"},
    "report.role_treated": {"sv": "behandlat", "en": "treated"},
    "report.role_control": {"sv": "kontroll", "en": "control"},
    "report.col_share_wave": {"sv": "Andel {wave} (%)", "en": "Share {wave} (%)"},
    "report.col_change_waves": {
        "sv": "Förändring {first}→{last} (procentenheter)",
        "en": "Change {first}→{last} (percentage points)"},
    "report.areas_intro": {
        "sv": "Bara de {n} områden som ingår i analysen: först de behandlade, sedan "
              "kontrollområdena, var för sig ordnade efter förändringen (störst minskning "
              "först). Övriga {other} områden finns i GeoPackagen och på kartan.",
        "en": "Only the {n} areas in the analysis: treated first, then the control areas, each "
              "ordered by the change (largest fall first). The other {other} areas are in the "
              "GeoPackage and on the map.",
    },
    # the trend figure, aligned on event time
    "report.trend_xlabel": {
        "sv": "Mätning relativt färdigställandet (−1 = före, 0 = första efter)",
        "en": "Wave relative to completion (−1 = before, 0 = first after)"},
    "report.trend_caption": {
        "sv": "Andelen i de behandlade områdena och i kontrollområdena vid samma mätningar, "
              "linjerade på händelsetid: −1 är mätningen före åtgärden, 0 den första efter. "
              "Varje kohort (åtgärder klara före samma mätning) bidrar med sina egna mätningar, "
              "vägda efter antal behandlade områden, så skillnaden i förändring från −1 till 0 "
              "motsvarar effekten i tabellen.",
        "en": "The share in the treated areas and in the control areas at the same waves, "
              "aligned on event time: −1 is the wave before the investment, 0 the first after. "
              "Each cohort (investments finished before the same wave) adds its own waves, "
              "weighted by its number of treated areas, so the difference in change from −1 to "
              "0 matches the effect in the table.",
    },
    "report.event_study": {"sv": "Händelsestudie", "en": "Event study"},
    # the method section: estimators, headline interval, multiple tests
    "report.estimators": {"sv": "Skattningsmetoder", "en": "Estimators"},
    "report.estimator_rows": {
        "sv": "{name}: {n_kind} skattningar per åtgärdstyp och {n_inv} per projekt.",
        "en": "{name}: {n_kind} estimates per kind and {n_inv} per project.",
    },
    "report.headline": {
        "sv": "Vilket intervall som gäller", "en": "Which interval is the headline"},
    "report.headline_model": {
        "sv": "{n} skattningar redovisar modellens intervall och p-värde (standardfel med "
              "normal- eller t-fördelning). Det är rubriken när det finns tillräckligt många "
              "behandlade och kontrollområden för att fördelningsantagandet ska hålla.",
        "en": "{n} estimates show the model's interval and p-value (standard error with a "
              "normal or t distribution). It is the headline when there are enough treated and "
              "control areas for the distributional assumption to hold.",
    },
    "report.headline_permutation": {
        "sv": "{n} skattningar redovisar permutationstestets intervall och p-värde. Det är "
              "rubriken när de behandlade eller kontrollområdena är få: då är modellens normal- "
              "eller t-approximation osäker, medan permutationstestet bara antar att åtgärden "
              "lika gärna kunde ha hamnat i andra områden av samma slag.",
        "en": "{n} estimates show the permutation test's interval and p-value. It is the "
              "headline when the treated or control areas are few: then the model's normal or "
              "t approximation is unreliable, while the permutation test only assumes that the "
              "investment could as well have gone to other areas of the same sort.",
    },
    "report.shared_tests": {
        "sv": "{rows} skattningar men {n} olika test: investeringar i samma område och "
              "mätperiod delar en skattning och räknas som ett test.",
        "en": "{rows} estimates but {n} distinct tests: investments in the same area and "
              "measurement window share one estimate and count as one test.",
    },
    "report.multiple_holm": {
        "sv": "{n} test, {k} signifikanta på [[level]]-nivån efter Holm-justering av "
              "p-värdena. Om ingen åtgärd hade någon effekt skulle slumpen ensam ge omkring "
              "{expected} signifikanta resultat utan justering ((1 − {level}) × {n}).",
        "en": "{n} tests, {k} significant at the [[level]] level after Holm adjustment of the "
              "p-values. If no investment had any effect, chance alone would give about "
              "{expected} significant results without adjustment ((1 − {level}) × {n}).",
    },
    "report.multiple_raw": {
        "sv": "{n} test, {k} signifikanta på [[level]]-nivån (p-värdena är inte justerade för "
              "att många test görs). Om ingen åtgärd hade någon effekt skulle slumpen ensam ge "
              "omkring {expected} signifikanta resultat ((1 − {level}) × {n}).",
        "en": "{n} tests, {k} significant at the [[level]] level (the p-values are not adjusted "
              "for the number of tests). If no investment had any effect, chance alone would "
              "give about {expected} significant results ((1 − {level}) × {n}).",
    },
    "report.estimates": {"sv": "Alla skattningar", "en": "All estimates"},
    "report.col_scope": {"sv": "Nivå", "en": "Level"},
    "report.scope_kind": {"sv": "åtgärdstyp", "en": "kind"},
    "report.scope_investment": {"sv": "projekt", "en": "project"},
    "report.col_what": {"sv": "Avser", "en": "For"},
    "report.col_method": {"sv": "Metod", "en": "Estimator"},
    "report.col_headline": {"sv": "Rubrikintervall", "en": "Headline interval"},
    "report.headline_kind_model": {"sv": "modell", "en": "model"},
    "report.headline_kind_permutation": {"sv": "permutation", "en": "permutation"},
    "report.col_p_adj": {"sv": "justerat p (Holm)", "en": "adjusted p (Holm)"},
    "report.col_significant": {"sv": "Signifikant", "en": "Significant"},
    "report.unplaced": {
        "sv": "Rader som inte kunde placeras", "en": "Rows that could not be placed"},
    "report.survey_join": {"sv": "Enkätens områden", "en": "Survey areas"},
    "report.survey_join_intro": {
        "sv": "{matched} av {n} rader i trygghetsmätningen ({share}) matchade ett område.",
        "en": "{matched} of {n} rows of the safety survey ({share}) matched an area.",
    },
    "report.survey_unmatched": {
        "sv": "Namn i enkäten som inte matchade något område (raderna används inte; lägg till "
              "dem under [survey.aliases] i projekt.toml)",
        "en": "Survey names that matched no area (their rows are not used; add them under "
              "[survey.aliases] in projekt.toml)",
    },
    "report.survey_no_rows": {
        "sv": "Områden utan rader i enkäten", "en": "Areas with no survey rows"},
    "report.survey_none": {"sv": "Inga.", "en": "None."},
    "report.col_survey_name": {"sv": "Namn i enkäten", "en": "Name in the survey"},
    "report.col_rows": {"sv": "Rader", "en": "Rows"},
    "report.col_first_row": {"sv": "Första rad", "en": "First row"},
    "report.col_closest": {"sv": "Närmaste område", "en": "Closest area"},
    "report.method": {"sv": "Metod och förbehåll", "en": "Method and caveats"},
    "report.run_notes": {"sv": "Avvikelser och anmärkningar", "en": "Deviations and notes"},
    "report.col_kind": {"sv": "Åtgärd", "en": "Kind"},
    "report.col_treated": {"sv": "Behandlade områden", "en": "Treated areas"},
    "report.col_control": {"sv": "Kontrollområden", "en": "Control areas"},
    "report.col_effect": {"sv": "Effekt (procentenheter)", "en": "Effect (percentage points)"},
    "report.col_ci": {"sv": "[[level]] KI", "en": "[[level]] CI"},
    "report.col_p": {"sv": "p", "en": "p"},
    "report.col_p_perm": {"sv": "p (permutationstest)", "en": "p (permutation)"},
    "report.col_mde": {"sv": "MDE", "en": "MDE"},
    "report.col_cost": {"sv": "Kr per procentenhet", "en": "SEK per point"},
    "report.col_spent": {"sv": "Nyttjat", "en": "Spent"},
    "report.col_granted": {"sv": "Beviljat", "en": "Granted"},
    "report.col_surplus": {"sv": "Överskott", "en": "Surplus"},
    "report.col_id": {"sv": "Projekt-ID", "en": "Project id"},
    "report.col_name": {"sv": "Namn", "en": "Name"},
    "report.col_area": {"sv": "Område", "en": "Area"},
    "report.col_done": {"sv": "Genomfört", "en": "Carried out"},
    "report.col_parent": {"sv": "Stadsdelsområde", "en": "District group"},
    "report.col_inv": {"sv": "Investeringar", "en": "Investments"},
    "report.col_last": {"sv": "Senaste våg", "en": "Latest wave"},
    "report.col_change": {"sv": "Förändring", "en": "Change"},
    "report.col_row": {"sv": "Rad", "en": "Row"},
    "report.col_text": {"sv": "Text i registret", "en": "Register text"},
    "report.col_reason": {"sv": "Orsak", "en": "Reason"},
    "report.col_year": {"sv": "År", "en": "Year"},
    "report.col_n_inv": {"sv": "Antal", "en": "Number"},
    "report.col_placed": {"sv": "Andel placerade", "en": "Share placed"},
    "report.col_n": {"sv": "n (svar)", "en": "n (answers)"},
    # ---- register: unknown kinds, duplicates, status (io.read_register, interventions)
    "report.unknown_kinds": {"sv": "Okända åtgärdstyper", "en": "Unknown kinds"},
    "report.unknown_kinds_intro": {
        "sv": "{n} åtgärdstexter i registret motsvarar ingen åtgärdstyp och räknas som Annat. "
              "Lägg raden i projekt.toml under [register.kinds] och byt typen mot den rätta om "
              "den inte stämmer ({ids}); körningen läser då texten som den typen.",
        "en": "{n} kind texts in the register match no kind and are counted as Other. Add the "
              "line to projekt.toml under [register.kinds], changing the kind to the right one "
              "if it is not ({ids}); the run then reads the text as that kind.",
    },
    "report.col_kind_text": {"sv": "Åtgärd enligt registret", "en": "Kind as written"},
    "report.col_toml": {"sv": "Rad i projekt.toml", "en": "Line in projekt.toml"},
    "report.duplicates": {"sv": "Dubbletter i registret", "en": "Duplicates in the register"},
    "report.duplicates_intro": {
        "sv": "En rad som upprepar en tidigare rad cell för cell räknas en gång: i den första "
              "raden, inte i summor, bokslut eller kostnad per procentenhet. Rader med samma "
              "projekt-id men olika innehåll behålls och räknas var för sig; kontrollera om de "
              "är samma projekt och ta i så fall bort den inaktuella raden.",
        "en": "A row that repeats an earlier row cell for cell is counted once: in the first "
              "row, not in totals, key figures or cost per point. Rows that share a project id "
              "but differ in content are kept and counted separately; check whether they are "
              "the same project, and if so remove the outdated row.",
    },
    "report.col_duplicate": {"sv": "Dubblett", "en": "Duplicate"},
    "report.col_run_id": {"sv": "Körning", "en": "Run"},
    "report.dup_exact": {
        "sv": "exakt kopia av rad {row}; räknas inte igen",
        "en": "exact copy of row {row}; not counted again",
    },
    "report.dup_id": {
        "sv": "samma projekt-id som rad {rows} men annat innehåll; räknas",
        "en": "same project id as row {rows} but other contents; counted",
    },
    "status.completed": {"sv": "genomförd", "en": "completed"},
    "status.ongoing": {"sv": "pågående", "en": "ongoing"},
    "status.cancelled": {"sv": "avbruten", "en": "cancelled"},
    "status.planned": {"sv": "planerad", "en": "planned"},
    "report.yes": {"sv": "ja", "en": "yes"},
    "report.no": {"sv": "nej", "en": "no"},
    "report.suppressed": {"sv": "för få svar", "en": "too few answers"},
    "report.ci_range": {"sv": "{lo} till {hi}", "en": "{lo} to {hi}"},
    "report.sig_down": {
        "sv": "{label}: andelen minskade med {pp} procentenheter mer än i kontrollområdena "
              "([[level]] KI {lo} till {hi}; {nt} behandlade och {nc_text}).",
        "en": "{label}: the share fell by {pp} percentage points more than in the control areas "
              "([[level]] CI {lo} to {hi}; {nt} treated and {nc_text}).",
    },
    "report.sig_up": {
        "sv": "{label}: andelen ökade med {pp} procentenheter mer än i kontrollområdena "
              "([[level]] KI {lo} till {hi}; {nt} behandlade och {nc_text}).",
        "en": "{label}: the share rose by {pp} percentage points more than in the control areas "
              "([[level]] CI {lo} to {hi}; {nt} treated and {nc_text}).",
    },
    "report.n_controls": {"sv": "{nc} kontrollområden", "en": "{nc} control areas"},
    "report.n_comparisons": {
        "sv": "{nc} jämförelseområden (kontrollområden och områden som åtgärdas senare, "
              "jämförda före sin åtgärd)",
        "en": "{nc} comparison areas (control areas and areas treated later, compared before "
              "their treatment)",
    },
    "report.not_measurable": {
        "sv": "{label}: ingen mätbar förändring. Skattningen är {est} procentenheter "
              "([[level]] KI {lo} till {hi}). Med {nt} behandlade och {nc_text} "
              "kunde designen bara upptäcka förändringar större än {mde} procentenheter.",
        "en": "{label}: no measurable change. The estimate is {est} percentage points "
              "([[level]] CI {lo} to {hi}). With {nt} treated and {nc_text} the design "
              "could only detect changes larger than {mde} percentage points.",
    },
    "report.no_estimate": {
        "sv": "{label}: ingen effekt kunde skattas (inga mätningar före och efter).",
        "en": "{label}: no effect could be estimated (no measurements before and after).",
    },
    # the "Method and caveats" list, in key order
    "report.method_text.1": {
        "sv": "Investeringarna geokodades mot en lokal adressförteckning (OSM). Varje rad "
              "redovisas: placerad med metod och poäng, eller ej placerad med orsak.",
        "en": "Investments were geocoded against a local gazetteer (OSM). Every row is accounted "
              "for: placed with method and score, or unplaced with a reason.",
    },
    "report.method_text.2": {
        "sv": "Ett område räknas som behandlat när en investering i området färdigställdes "
              "mellan två mätningar; kohorten är den första mätningen efter färdigställandet. "
              "Kontrollområden har ingen färdigställd investering under perioden. Områden där en "
              "investering inte kunde placeras används inte som kontroller.",
        "en": "An area counts as treated when an investment in it was completed between two "
              "survey waves; the cohort is the first wave after completion. Control areas had no "
              "completed investment in the period. Areas where an investment could not be "
              "placed are not used as controls.",
    },
    "report.method_text.3": {
        "sv": "Effekten skattas som en differens-i-differenser (2×2) per kohort: förändringen i "
              "de behandlade områdena mellan mätningen före och efter, minus samma förändring i "
              "kontrollområdena; kohorterna vägs samman efter antal behandlade områden. "
              "Standardfelen bygger på urvalsvariansen i varje cell (binomial). Variation mellan "
              "områden och år utöver urvalsfelet fångas inte, så intervallen kan vara för smala "
              "i verkliga data.",
        "en": "The effect is a 2x2 difference-in-differences per cohort: the change in treated "
              "areas between the wave before and after, minus the same change in control areas, "
              "pooled over cohorts by number of treated areas. Standard errors come from each "
              "cell's sampling variance (binomial). Area-by-wave variation beyond sampling error "
              "is not captured, so intervals may be too narrow on real data.",
    },
    "report.method_text.4": {
        "sv": "Celler med färre än {min_n} svar redovisas inte (visas som ”för få svar”) men "
              "ingår i analysen.",
        "en": "Cells with fewer than {min_n} answers are not published (shown as 'too few "
              "answers') but are used in the analysis.",
    },
    "report.method_text.5": {
        "sv": "Kostnad per procentenhet = nyttjat belopp / effekten i procentenheter. Intervallet "
              "följer effektens konfidensintervall; når intervallet noll saknas en övre gräns.",
        "en": "Cost per point = money spent / effect in percentage points. Its interval follows "
              "the effect's CI; when that reaches zero there is no upper bound.",
    },
    # ---- the command line
    "cli.demo_building": {
        "sv": "Bygger demostaden (seed {seed}) i {folder}",
        "en": "Building the demo city (seed {seed}) in {folder}",
    },
    "cli.register": {
        "sv": "Registret: {n} rader, {placed} placerade, {unplaced} ej placerade (summa {total}).",
        "en": "Register: {n} rows, {placed} placed, {unplaced} unplaced (total {total}).",
    },
    "cli.no_kind_effect": {
        "sv": "  Ingen effekt per åtgärdstyp (behandlade områden fick flera typer eller ingen typ "
              "hade behandlade områden); {n_inv} skattningar per investering finns i rapporten.",
        "en": "  No effect per kind (treated areas got several kinds, or no kind had treated "
              "areas); {n_inv} per-investment estimates are in the report.",
    },
    # percentage points as ASCII (a terminal may not show U+2212), aligned in columns
    "cli.effect": {
        "sv": "  {kind:<16} {est:+6.1f} p.e.  [{lo:+.1f}, {hi:+.1f}]  n={nt}/{nc}  "
              "MDE {mde:.1f} p.e.",
        "en": "  {kind:<16} {est:+6.1f} pp  [{lo:+.1f}, {hi:+.1f}]  n={nt}/{nc}  "
              "MDE {mde:.1f} pp",
    },
    "cli.survey_unmatched": {
        "sv": "Enkätnamn utan område ({n}): {names}",
        "en": "Survey names that matched no area ({n}): {names}",
    },
    "cli.survey_no_rows": {
        "sv": "Områden utan enkätrader ({n}): {names}",
        "en": "Areas with no survey rows ({n}): {names}",
    },
    "cli.written": {"sv": "Skrivet:", "en": "Written:"},
    "cli.unknown_kinds": {
        "sv": "Okända åtgärdstexter ({n}) räknas som Annat. Lägg till i projekt.toml (byt typen "
              "om den inte stämmer):",
        "en": "Unknown kind texts ({n}) are counted as Other. Add to projekt.toml (change the "
              "kind if it is wrong):",
    },
    "cli.unknown_kind_rows": {"sv": "rader {rows}", "en": "rows {rows}"},
    "cli.duplicate_rows": {
        "sv": "Exakta kopior av tidigare rader ({n}), räknas en gång: {rows}.",
        "en": "Exact copies of earlier rows ({n}), counted once: {rows}.",
    },
    "cli.duplicate_ids": {
        "sv": "Rader som delar projekt-id med annat innehåll ({n}; behålls och räknas): {rows}.",
        "en": "Rows that share a project id with other contents ({n}; kept and counted): {rows}.",
    },
    "cli.warning": {"sv": "varning: {message}", "en": "warning: {message}"},
    "cli.done": {"sv": "Klart på {seconds:.1f} s.", "en": "Done in {seconds:.1f} s."},
    "cli.no_estimate": {
        "sv": "trygg-geo: ingen effekt kunde skattas; se skälen ovan och i rapporten. Fix: "
              "kontrollera att registret har genomförda åtgärder mellan två mätvågor och att "
              "enkäten täcker områdena.",
        "en": "trygg-geo: no effect could be estimated; see the reasons above and in the report. "
              "Fix: check that the register has investments completed between two survey waves "
              "and that the survey covers the areas.",
    },
    # ---- warnings and errors about the user's input (trygg_geo._errors.Msg; the readers)
    "err.where.file": {"sv": "filen '{file}'", "en": "file '{file}'"},
    "err.where.key": {"sv": "nyckeln '{key}'", "en": "key '{key}'"},
    "err.where.row": {"sv": "rad {row}", "en": "row {row}"},
    "err.where.column": {"sv": "kolumnen '{column}'", "en": "column '{column}'"},
    "err.fix": {"sv": "Gör så här: {fix}", "en": "Fix: {fix}"},
    "err.join": {"sv": "{a}{b}", "en": "{a}{b}"},
    "err.missing_file": {
        "sv": "{what} '{path}' finns inte.{hint} Gör så här: kontrollera sökvägen (en relativ "
              "sökväg utgår från den aktuella mappen, eller från mappen där projekt.toml ligger).",
        "en": "The {what} '{path}' does not exist.{hint} Fix: check the path (relative paths are "
              "taken from the current folder, or from the folder of projekt.toml in a project "
              "config).",
    },
    "err.missing_file.near": {
        "sv": " Filer med samma ändelse i '{folder}': {names}.",
        "en": " Files with the same ending in '{folder}': {names}.",
    },
    "err.missing_file.no_folder": {
        "sv": " Mappen '{folder}' finns inte heller.",
        "en": " The folder '{folder}' does not exist either.",
    },
    "what.input file": {"sv": "Indatafilen", "en": "input file"},
    "what.area layer": {"sv": "Områdeslagret", "en": "area layer"},
    "what.investment register": {"sv": "Investeringsregistret", "en": "investment register"},
    "what.survey file": {"sv": "Enkätfilen", "en": "survey file"},
    "what.incident file": {"sv": "Händelsefilen", "en": "incident file"},
    "what.project config": {"sv": "Projektfilen", "en": "project config"},
    "what.water layer": {"sv": "Vattenlagret", "en": "water layer"},
    "what.address file": {"sv": "Adressfilen", "en": "address file"},
    "what.hierarchy table": {"sv": "Hierarkitabellen", "en": "hierarchy table"},
    "what.OSM XML file": {"sv": "OSM-filen", "en": "OSM XML file"},
    "err.missing_column": {
        "sv": "den obligatoriska kolumnen '{column}' saknas. Kolumner i filen: {found}.",
        "en": "the required column '{column}' is missing. Columns found: {found}.",
    },
    "err.missing_column.accepted": {
        "sv": " Rubriker som känns igen: {accepted}.",
        "en": " Recognised header names: {accepted}."},
    "err.missing_column.none": {"sv": "(inga)", "en": "(none)"},
    "err.missing_column.fix": {
        "sv": "byt namn på en kolumn till '{column}'.", "en": "rename a column to '{column}'."},
    "err.missing_column.fix_config": {
        "sv": "byt namn på en kolumn till '{column}', eller ange kolumnen i projekt.toml under "
              "[{config_key}].",
        "en": "rename a column to '{column}', or map it in projekt.toml under [{config_key}].",
    },
    "err.no_crs": {
        "sv": "{what} saknar koordinatsystem (CRS), så koordinaterna kan inte placeras.",
        "en": "{what} has no CRS (coordinate reference system), so its coordinates cannot be "
              "placed.",
    },
    "err.no_crs.fix": {
        "sv": "ange koordinatsystemet som koordinaterna är i med {how} (kontrollera källan, gissa "
              "inte), t.ex. 'EPSG:3006' för SWEREF 99 TM eller 'EPSG:3011' för SWEREF 99 18 00.",
        "en": "give the CRS the coordinates are in with {how} (check the source, do not guess), "
              "e.g. 'EPSG:3006' for SWEREF 99 TM or 'EPSG:3011' for SWEREF 99 18 00.",
    },
    "err.no_crs.fix_key": {
        "sv": "ange koordinatsystemet som koordinaterna är i med {how} (kontrollera källan, gissa "
              "inte), t.ex. 'EPSG:3006' för SWEREF 99 TM eller 'EPSG:3011' för SWEREF 99 18 00, "
              "eller ange {key} i projekt.toml.",
        "en": "give the CRS the coordinates are in with {how} (check the source, do not guess), "
              "e.g. 'EPSG:3006' for SWEREF 99 TM or 'EPSG:3011' for SWEREF 99 18 00, or set {key} "
              "in projekt.toml.",
    },
    # the register (trygg_geo.io)
    "warn.cell": {
        "sv": "'{file}', rad {row}, kolumnen '{column}': '{cell}' {problem}; raden behålls och "
              "flaggas.",
        "en": "'{file}', row {row}, column '{column}': '{cell}' {problem}; the row is kept and "
              "flagged.",
    },
    "warn.cell.amount_scaled": {
        "sv": "anger sin enhet; beloppet räknades om till kronor",
        "en": "names its unit; it was converted to kronor",
    },
    "warn.cell.amount_negative": {
        "sv": "är ett negativt belopp; värdet lämnas tomt",
        "en": "is a negative amount; the value is left empty",
    },
    "warn.cell.amount_not_finite": {
        "sv": "är inte ett ändligt belopp; värdet lämnas tomt",
        "en": "is not a finite amount; the value is left empty",
    },
    "warn.cell.amount_out_of_range": {
        "sv": "är större än någon investering (över 1 000 miljarder kr); värdet lämnas tomt",
        "en": "is larger than any investment (above 1,000 billion kr); the value is left empty",
    },
    "warn.cell.not_amount": {
        "sv": "är inget belopp (skriv t.ex. 1 250 000 eller 1 250 tkr)",
        "en": "is not an amount (write it as 1 250 000 or 1 250 tkr)",
    },
    "warn.cell.not_number": {
        "sv": "är inget ändligt tal; värdet lämnas tomt",
        "en": "is not a finite number; the value is left empty",
    },
    "warn.cell.not_date": {
        "sv": "är inget datum (skriv t.ex. 2021-03-15); värdet lämnas tomt",
        "en": "is not a date (write it as 2021-03-15); the value is left empty",
    },
    "warn.cell.date_out_of_range": {
        "sv": "ligger utanför 1900–2100; värdet lämnas tomt",
        "en": "is outside 1900-2100; the value is left empty",
    },
    "warn.cell.date_implausible": {
        "sv": "ligger före {year}, vilket är orimligt för en investering; värdet behålls",
        "en": "is before {year}, which is implausible for an investment; it is kept",
    },
    "warn.cell.date_future": {
        "sv": "ligger efter dagens datum ({today}), så investeringen räknas inte som genomförd "
              "(datumet finns kvar i raw_text)",
        "en": "is after today ({today}), so the investment is not counted as carried out (the "
              "date stays in raw_text)",
    },
    "warn.cell.text_cut": {
        "sv": "är {n} tecken lång; den kortades till {limit}",
        "en": "is {n} characters long; it was cut to {limit}",
    },
    "warn.cells": {
        "sv": "'{file}', kolumnen '{column}': {n} celler (rader {rows}) har samma problem; den "
              "första, '{cell}', {problem}; raderna behålls och flaggas.",
        "en": "'{file}', column '{column}': {n} cells (rows {rows}) have the same problem; the "
              "first, '{cell}', {problem}; the rows are kept and flagged.",
    },
    "warn.status_unknown": {
        "sv": "'{file}', kolumnen '{column}': {n} statusvärden känns inte igen (första: rad {row}; "
              "värden: {values}). Raderna behålls, flaggas status_unknown, och deras status tas "
              "från datumet för färdigställande. Kända: Klar/Genomförd/Avslutad, "
              "Pågående/Påbörjad, Avbruten/Inställd/Struken, Planerad/Beviljad.",
        "en": "'{file}', column '{column}': {n} status value(s) are not a known status (first: "
              "row {row}; values: {values}); those rows are kept, flagged status_unknown, and "
              "their status is taken from the completion date. Known: Klar/Genomförd/Avslutad, "
              "Pågående/Påbörjad, Avbruten/Inställd/Struken, Planerad/Beviljad.",
    },
    "warn.dup_rows": {
        "sv": "'{file}': {head}{listed}. {they} och räknas en gång.",
        "en": "'{file}': {head}{listed}. {they}, and counted once.",
    },
    "warn.dup_rows.head_one": {
        "sv": "{n} rad upprepar en tidigare rad exakt: ",
        "en": "{n} row(s) repeat an earlier row exactly: "},
    "warn.dup_rows.head_many": {
        "sv": "{n} rader upprepar en tidigare rad exakt: ",
        "en": "{n} row(s) repeat an earlier row exactly: "},
    "warn.dup_rows.item": {"sv": "{row} (= rad {of})", "en": "{row} (= row {of})"},
    "warn.dup_rows.one": {
        "sv": "Den behålls, flaggas som dubblett", "en": "They are kept, flagged duplicate"},
    "warn.dup_rows.many": {
        "sv": "De behålls, flaggas som dubbletter", "en": "They are kept, flagged duplicate"},
    "warn.dup_ids": {
        "sv": "'{file}': {n} projekt-id står på rader med olika innehåll: {listed}. Alla rader "
              "behålls, räknas och flaggas duplicate_id. Ge varje projekt ett eget id, eller ta "
              "bort den inaktuella raden.",
        "en": "'{file}': {n} id(s) are on rows with different contents: {listed}. Every row is "
              "kept, counted and flagged duplicate_id; give each project its own id, or remove "
              "the outdated row.",
    },
    "warn.dup_ids.item": {"sv": "'{id}' (rader {rows})", "en": "'{id}' (rows {rows})"},
    "warn.more": {"sv": "…", "en": "..."},
    "warn.bad_crs": {
        "sv": "{error} Koordinatsystemet bestäms i stället utifrån siffrorna.",
        "en": "{error} The CRS will be detected from the numbers.",
    },
    "warn.incident_dates": {
        "sv": "'{file}', kolumnen '{column}': {n} datum kunde inte läsas eller ligger utanför "
              "1900–2100 (första: rad {row}, '{cell}'); händelserna behålls utan datum.",
        "en": "'{file}', column '{column}': {n} date(s) could not be read or are outside "
              "1900-2100 (first: row {row}, '{cell}'); those incidents are kept without a date.",
    },
    "warn.cells_cut": {
        "sv": "'{file}', kolumnen '{column}': {n} celler längre än {limit} tecken kortades "
              "(första: rad {row}).",
        "en": "'{file}', column '{column}': {n} cell(s) longer than {limit} characters were cut "
              "(first: row {row}).",
    },
    "err.register_empty": {
        "sv": "investeringsregistret har en rubrikrad men inga rader.",
        "en": "the investment register has a header but no rows.",
    },
    "err.register_empty.fix": {
        "sv": "kontrollera att rätt blad eller fil exporterades.",
        "en": "check that the right sheet or file was exported.",
    },
    # the survey (trygg_geo.survey)
    "warn.survey_count_share": {
        "sv": "filen '{file}': andel och antal/n stämmer inte överens på raderna {rows}; "
              "andelskolumnen används.",
        "en": "file '{file}': share and count/n disagree on rows {rows}; the share column is used.",
    },
    "warn.survey_small_percent": {
        "sv": "filen '{file}': raderna {rows} har andelar under 1 under en procentrubrik; de "
              "läses som procent under 1 %. Kontrollera dem om de är andelar (0–1).",
        "en": "file '{file}': rows {rows} hold shares below 1 under a percent header; they are "
              "read as percentages below 1 %. Check them if they are proportions.",
    },
    "warn.survey_percent_header": {
        "sv": "filen '{file}': rubriken säger procent men alla värden är högst 1, så skalan 0–1 "
              "antogs. Ange [survey] scale = \"percent\" om det är procent under 1 %.",
        "en": "file '{file}': the share header says percent but every value is at most 1; a 0-1 "
              "scale was assumed. Pass scale='percent' if these are percentages below 1%.",
    },
    "survey.name_row": {"sv": "'{name}' (rad {row})", "en": "'{name}' (row {row})"},
    "survey.name_rows": {
        "sv": "'{name}' ({n} rader från rad {row})", "en": "'{name}' ({n} rows from row {row})"},
    "survey.names_more": {"sv": " och {n} till", "en": " and {n} more"},
    "warn.survey_unmatched": {
        "sv": "filen '{file}': {n} av {n_rows} enkätrader anger inget område i områdeslagret och "
              "lämnas utanför: {names}.",
        "en": "file '{file}': {n} of {n_rows} survey rows name no area of the area layer and are "
              "left out: {names}.",
    },
    "warn.survey_unmatched.alias": {
        "sv": " Gör så här: lägg till dem under [survey.aliases] i projekt.toml, t.ex. "
              "\"{name}\" = \"{closest}\".",
        "en": " Fix: add them under [survey.aliases] in projekt.toml, e.g. \"{name}\" = "
              "\"{closest}\".",
    },
    "warn.survey_unmatched.no_alias": {
        "sv": " Gör så här: rätta namnen i enkätfilen, eller lägg till dem under "
              "[survey.aliases] i projekt.toml med det område de avser.",
        "en": " Fix: correct the names in the survey file, or add them under [survey.aliases] in "
              "projekt.toml with the area they mean.",
    },
    "err.survey_join": {
        "sv": "bara {n_matched} av {n_rows} enkätrader ({share}) anger ett område i "
              "områdeslagret; minst {min} måste göra det. {n} namn matchade inget område: "
              "{names}.",
        "en": "only {n_matched} of {n_rows} survey rows ({share}) name an area of the area layer; "
              "at least {min} must. {n} names matched no area: {names}.",
    },
    "err.survey_join.fix": {
        "sv": "lägg till varje namn i projekt.toml under [survey.aliases] med det område det "
              "avser{example}; eller rätta namnen i enkätfilen, eller kontrollera [areas] path. "
              "En enkät över andra områden kan interpoleras med "
              "trygg_geo.overlay.interpolate_survey.",
        "en": "add each name to projekt.toml with the area it means, under [survey.aliases]"
              "{example}; or correct the names in the survey file, or check [areas] path. A "
              "survey over other areas can be interpolated with "
              "trygg_geo.overlay.interpolate_survey.",
    },
    "err.survey_join.example": {
        "sv": ", t.ex. \"{name}\" = \"{closest}\" (det närmaste områdesnamnet)",
        "en": ", e.g. \"{name}\" = \"{closest}\" (the closest area name)",
    },
    "err.respondents_no_area": {
        "sv": "{n} svarande saknar område (rader {rows}): inget område angivet, eller "
              "koordinater utanför alla områden.",
        "en": "{n} respondent rows have no area (rows {rows}): no area given, or coordinates "
              "outside every area.",
    },
    "err.respondents_no_area.fix": {
        "sv": "fyll i området, eller ange areas= som täcker koordinaterna.",
        "en": "fill in the area, or pass areas= that cover the coordinates.",
    },
    "err.points_crs.fix": {
        "sv": "ange koordinatsystemet för de svarandes x/y med points_crs= (t.ex. 'EPSG:3011'), "
              "eller läs områdeslagret med ett koordinatsystem.",
        "en": "give the CRS of the respondents' x/y with points_crs= (e.g. 'EPSG:3011'), or read "
              "the area layer with a CRS.",
    },
    "cli.survey_totals": {
        "sv": "Totalrader för hela staden lämnas utanför ({n}): {names}",
        "en": "City total rows are left out ({n}): {names}",
    },
    # the area layer (trygg_geo.areas)
    "warn.areas": {
        "sv": "områdeslagret '{file}': {summary}. Detaljerna finns i gdf.attrs['{attr}'].",
        "en": "area layer '{file}': {summary}. The details are in gdf.attrs['{attr}'].",
    },
    "areas.invalid": {
        "sv": "{n} ogiltiga geometrier ({ids})", "en": "{n} invalid geometries ({ids})"},
    "areas.overlaps": {
        "sv": "{n} par överlappar (störst {m2} m² mellan {a} och {b})",
        "en": "{n} overlapping pairs (largest {m2} m2 between {a} and {b})",
    },
    "areas.gaps": {
        "sv": "{n} glipor (störst {m2} m², gränsar till {bordering})",
        "en": "{n} gaps (largest {m2} m2, bordering {bordering})",
    },
    "areas.water": {"sv": "vatten klipptes bort från {n} områden",
                    "en": "water clipped from {n} areas"},
    "areas.no_problems": {"sv": "inga problem hittades", "en": "no problems found"},
    "areas.join": {"sv": "; ", "en": "; "},
    "err.areas_report.fix": {
        "sv": "reparera lagret i ett GIS-program, eller läs det med report='warn'.",
        "en": "repair the layer in a GIS, or read it with report='warn'.",
    },
    # CRS fixes given by the callers of require_crs
    "err.graph_crs.fix": {
        "sv": "ange gatunätets koordinatsystem med crs= (ett projicerat i meter, t.ex. "
              "'EPSG:3006' eller kommunens SWEREF 99-zon 'EPSG:3011'), eller låt det vara tomt "
              "för EPSG:3006.",
        "en": "give the street graph's CRS with crs= (a projected CRS in metres, e.g. 'EPSG:3006' "
              "or the municipality's SWEREF 99 zone 'EPSG:3011'), or leave it out for EPSG:3006.",
    },
    "err.raster_crs.fix": {
        "sv": "rasterfilen saknar koordinatsystem: spara den igen med ett (t.ex. gdal_edit.py "
              "-a_srs EPSG:3006 fil.tif, eller 'Tilldela projektion' i QGIS).",
        "en": "the raster file has no CRS: save it again with one (e.g. gdal_edit.py -a_srs "
              "EPSG:3006 file.tif, or 'Assign projection' in QGIS).",
    },
    # ---- the evaluation plan (trygg_geo.plan_outputs, trygg-geo planera) and keeping to it
    "plan.title": {"sv": "Utvärderingsplan", "en": "Evaluation plan"},
    "plan.generated": {"sv": "Skapad {date} med trygg-geo {version}. Plan-id {run_id}.",
                       "en": "Created {date} with trygg-geo {version}. Plan id {run_id}."},
    "plan.h_summary": {"sv": "Sammanfattning", "en": "Summary"},
    "plan.summary": {
        "sv": "{n} planerade investeringar ska mätas i mätningen {next_wave} och jämföras med "
              "mätningen {last_wave}. {matbar} är mätbara var för sig, {pooled} är mätbara bara "
              "sammanslagna per åtgärdstyp och {not_} är inte mätbara med nuvarande urval.",
        "en": "{n} planned investments are to be measured in the {next_wave} wave and compared "
              "with the {last_wave} wave. {matbar} are measurable one by one, {pooled} only "
              "pooled per kind and {not_} are not measurable with the current sample."},
    "plan.h_kinds": {"sv": "Per åtgärdstyp (sammanslaget)", "en": "Per kind (pooled)"},
    "plan.h_design": {"sv": "Design", "en": "Design"},
    "plan.design_1": {
        "sv": "Jämförelse: skillnad i skillnader (2x2) mellan mätningen {last_wave} (före) och "
              "{next_wave} (efter), de behandlade områdena mot kontrollområdena nedan.",
        "en": "Comparison: difference in differences (2x2) between the {last_wave} wave "
              "(before) and {next_wave} (after), the treated areas against the control areas "
              "below."},
    "plan.design_2": {
        "sv": "Behandlade områden: de områden varje investering når, enligt samma regel som "
              "uppföljningen använder ({n_treated} områden).",
        "en": "Treated areas: the areas each investment reaches, by the rule the follow-up "
              "uses ({n_treated} areas)."},
    "plan.design_3": {
        "sv": "Kontrollområden väljs nu, innan pengarna används: de {n_control} av {n_cand} "
              "möjliga områden (mätta i varje mätning, utan planerad eller tidigare "
              "investering) som ligger närmast de behandlade i {variables}. Uppföljningen "
              "(trygg-geo run med [plan] path) använder just dessa och redovisar avvikelser.",
        "en": "Control areas are chosen now, before the money is spent: the {n_control} of "
              "{n_cand} possible areas (measured in every wave, no planned or earlier "
              "investment) nearest the treated ones in {variables}. The follow-up (trygg-geo "
              "run with [plan] path) uses exactly these and reports any deviation."},
    "plan.design_4": {
        "sv": "Tvåsidigt test på nivån {test_level}; målstyrkan är {power}. Svarande nästa "
              "mätning: {expected}.",
        "en": "Two-sided test at level {test_level}; the target power is {power}. Respondents "
              "next wave: {expected}."},
    "plan.expected_mean": {"sv": "varje områdes medel över de tidigare mätningarna",
                           "en": "each area's mean over the past waves"},
    "plan.expected_n": {"sv": "{n} per område", "en": "{n} per area"},
    "plan.design_5": {
        "sv": "Antagna effekter (planeringsantaganden, inte resultat): {effects}.",
        "en": "Assumed effects (planning assumptions, not results): {effects}."},
    "plan.h_tau2": {"sv": "Variation mellan områden och mätningar (τ²)",
                    "en": "Variation between areas and waves (τ²)"},
    "plan.tau2": {
        "sv": "τ² = {tau2} (andel²): varje område och mätning skakar med ungefär {tau_pp} "
              "procentenheter (standardavvikelse) utöver urvalsosäkerheten. Skattat från "
              "{n_areas} möjliga kontrollområdens förändringar mellan mätningarna {waves}. "
              "Skakningen finns hur många som än svarar, så fler svarande hjälper bara upp till "
              "en gräns; fler behandlade områden per åtgärdstyp hjälper alltid.",
        "en": "τ² = {tau2} (share²): each area and wave moves by about {tau_pp} percentage "
              "points (standard deviation) on top of the sampling error. Estimated from the "
              "changes of {n_areas} possible control areas between the waves {waves}. The "
              "movement is there however many answer, so more respondents help only up to a "
              "limit; more treated areas per kind always help."},
    "plan.h_controls": {"sv": "Kontrollområden", "en": "Control areas"},
    "plan.h_balance": {"sv": "Balans", "en": "Balance"},
    "plan.balance_note": {
        "sv": "SMD = standardiserad skillnad i medelvärde mot de behandlade områdena; under 0,25 "
              "i absolutvärde brukar räknas som god balans.",
        "en": "SMD = standardised mean difference to the treated areas; below 0.25 in absolute "
              "value is usually taken as good balance."},
    "plan.h_investments": {"sv": "Per investering", "en": "Per investment"},
    "plan.h_verdicts": {"sv": "Vad bedömningarna betyder", "en": "What the verdicts mean"},
    "plan.verdict_matbar": {
        "sv": "mätbar: investeringen ensam når målstyrkan mot den antagna effekten.",
        "en": "measurable: the investment alone reaches the target power against the assumed "
              "effect."},
    "plan.verdict_matbar_sammanslagen": {
        "sv": "mätbar bara sammanslagen per åtgärdstyp: bara alla investeringar av samma typ "
              "tillsammans når målstyrkan; investeringen ensam kan inte visa effekten.",
        "en": "measurable only pooled per kind: only all investments of the kind together "
              "reach the target power; the investment alone cannot show the effect."},
    "plan.verdict_inte_matbar": {
        "sv": "inte mätbar med nuvarande urval: varken investeringen eller dess typ når "
              "målstyrkan. Kolumnen extra svarande anger hur många fler svarande per behandlat "
              "område nästa mätning som skulle göra investeringen mätbar (tom: inget antal "
              "räcker).",
        "en": "not measurable with the current sample: neither the investment nor its kind "
              "reaches the target power. The column extra respondents says how many more "
              "respondents per treated area in the next wave would make the investment "
              "measurable (empty: no number suffices)."},
    "plan.unmeasured": {
        "sv": "Behandlade områden utan mätning i varje tidigare mätning (ingår inte): {areas}.",
        "en": "Treated areas not measured in every past wave (left out): {areas}."},
    "plan.col_id": {"sv": "Projekt-id", "en": "Project id"},
    "plan.col_name": {"sv": "Namn", "en": "Name"},
    "plan.col_kind": {"sv": "Åtgärdstyp", "en": "Kind"},
    "plan.col_areas": {"sv": "Behandlade områden", "en": "Treated areas"},
    "plan.col_n_treated": {"sv": "Behandlade", "en": "Treated"},
    "plan.col_n_control": {"sv": "Kontroller", "en": "Controls"},
    "plan.col_mde": {"sv": "MDE (pe)", "en": "MDE (pp)"},
    "plan.col_effect": {"sv": "Antagen effekt (pe)", "en": "Assumed effect (pp)"},
    "plan.col_power": {"sv": "Styrka", "en": "Power"},
    "plan.col_kind_power": {"sv": "Styrka för typen", "en": "Power of the kind"},
    "plan.col_verdict": {"sv": "Bedömning", "en": "Verdict"},
    "plan.col_extra": {"sv": "Extra svarande per område", "en": "Extra respondents per area"},
    "plan.col_note": {"sv": "Not", "en": "Note"},
    "plan.col_area_id": {"sv": "Områdes-id", "en": "Area id"},
    "plan.col_level": {"sv": "Nivå (%)", "en": "Level (%)"},
    "plan.col_trend": {"sv": "Trend (pe per år)", "en": "Trend (pp per year)"},
    "plan.col_distance": {"sv": "Avstånd (standardiserat)", "en": "Distance (standardised)"},
    "plan.col_variable": {"sv": "Variabel", "en": "Variable"},
    "plan.col_treated_mean": {"sv": "Behandlade", "en": "Treated"},
    "plan.col_control_mean": {"sv": "Valda kontroller", "en": "Chosen controls"},
    "plan.col_cand_mean": {"sv": "Alla möjliga kontroller", "en": "All possible controls"},
    "plan.col_smd_controls": {"sv": "SMD kontroller", "en": "SMD controls"},
    "plan.col_smd_cand": {"sv": "SMD alla möjliga", "en": "SMD all possible"},
    "plan.var_level": {"sv": "nivå före", "en": "level before"},
    "plan.var_trend": {"sv": "trend före", "en": "trend before"},
    "plan.var_incident_density": {"sv": "händelser per km²", "en": "incidents per km²"},
    "plan.map_effect": {
        "sv": "Plan: {verdict}; MDE {mde} pe, styrka {power} mot {effect} pe",
        "en": "Plan: {verdict}; MDE {mde} pp, power {power} against {effect} pp"},
    "plan.map_control": {
        "sv": "Vald kontroll i utvärderingsplanen (avstånd {distance}).",
        "en": "Control chosen in the evaluation plan (distance {distance})."},
    "plan.map_other": {
        "sv": "Varken behandlat eller vald kontroll i utvärderingsplanen.",
        "en": "Neither treated nor a chosen control in the evaluation plan."},
    "plan.needs_next_wave": {
        "sv": "[plan] next_wave saknas: planen behöver veta vilken mätning som ska mäta "
              "investeringarna. Fix: skriv next_wave = 2027 under [plan].",
        "en": "[plan] next_wave is missing: the plan needs the wave that will measure the "
              "investments. Fix: write next_wave = 2027 under [plan]."},
    "progress.plan": {"sv": "Planerar utvärderingen", "en": "Planning the evaluation"},
    "progress.plan_write": {"sv": "Skriver utvärderingsplan, lager och karta",
                            "en": "Writing the evaluation plan, layers and map"},
    "cli.plan_verdicts": {
        "sv": "Utvärderingsplan för mätningen {next_wave}: {n} planerade investeringar; "
              "{matbar} mätbara, {pooled} bara sammanslagna per åtgärdstyp, {not_} inte mätbara "
              "med nuvarande urval. τ² = {tau2}.",
        "en": "Evaluation plan for the {next_wave} wave: {n} planned investments; {matbar} "
              "measurable, {pooled} only pooled per kind, {not_} not measurable with the "
              "current sample. τ² = {tau2}."},
    "cli.plan_kind": {
        "sv": "  {kind:<16} MDE {mde} pe, styrka {power} mot {effect} pe "
              "({nt} behandlade, {nc} kontroller)",
        "en": "  {kind:<16} MDE {mde} pp, power {power} against {effect} pp "
              "({nt} treated, {nc} controls)"},
    # ---- a run that keeps to a plan ([plan] path)
    "role.not_planned_control": {
        "sv": "Inte en av utvärderingsplanens kontroller, så området används inte som kontroll.",
        "en": "Not one of the evaluation plan's controls, so not used as a control."},
    "plan.kept": {
        "sv": "Kontrollerna är utvärderingsplanens ({file}, plan-id {plan_id}): {used} av "
              "{planned} planerade kontroller används; inga andra områden används som kontroll.",
        "en": "The controls are the evaluation plan's ({file}, plan id {plan_id}): {used} of "
              "{planned} planned controls are used; no other area is used as a control."},
    "plan.deviation_control": {
        "sv": "Avvikelse från utvärderingsplanen: den planerade kontrollen {name} ({area_id}) "
              "används inte: {why}",
        "en": "Deviation from the evaluation plan: the planned control {name} ({area_id}) is "
              "not used: {why}"},
    "plan.deviation_missing_area": {
        "sv": "området finns inte i områdeslagret.", "en": "the area is not in the area layer."},
    "plan.deviation_wave": {
        "sv": "Avvikelse från utvärderingsplanen: planen jämför mätningarna {planned}, men "
              "körningen har inte {missing} (körningens mätningar: {waves}).",
        "en": "Deviation from the evaluation plan: the plan compares the waves {planned}, but "
              "the run has no {missing} (the run's waves: {waves})."},
}


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}. Fix: use 'sv' or 'en'.")


def _template(key: str, lang: str) -> str:
    _check_lang(lang)
    try:
        return TEXTS[key][lang]
    except KeyError:
        near = difflib.get_close_matches(key, TEXTS, n=3)
        hint = f" Did you mean {', '.join(map(repr, near))}?" if near else ""
        raise KeyError(f"no text with key {key!r}.{hint}") from None


def text(key: str, lang: str, /, *, level: float | None = None, **values: Any) -> str:
    """The text ``key`` in ``lang``, with ``values`` put into its ``{placeholders}``.

    The template is fixed (from :data:`TEXTS`); the values are data and are inserted once with
    :meth:`str.format`, so braces or ``[[level]]`` inside a value are shown as written.

    Parameters
    ----------
    key
        A key of :data:`TEXTS` (``"report.title"``).
    lang
        ``"sv"`` or ``"en"``.
    level
        The confidence level (``0.95``) for texts that hold ``[[level]]``.
    **values
        The placeholders' values.

    Raises
    ------
    KeyError
        For an unknown key, or a placeholder with no value.
    ValueError
        For an unknown language, or a text with ``[[level]]`` and no ``level``.

    Examples
    --------
    >>> text("report.run_id", "sv", run_id="{x}")
    'Körning {x}.'
    >>> text("map.ci", "en", level=0.9)
    '90% CI'
    """
    template = _template(key, lang)
    if LEVEL in template:
        if level is None:
            raise ValueError(f"the text {key!r} holds the confidence level: pass level=.")
        template = template.replace(LEVEL, level_label(level, lang))
    try:
        return template.format(**values)
    except KeyError as exc:
        raise KeyError(f"the text {key!r} needs a value for {exc.args[0]!r}.") from None


def texts(prefix: str, lang: str, level: float | None = None) -> dict[str, str]:
    """The texts whose key starts with ``prefix``, by the rest of the key (in key order).

    The values are still templates (their ``{placeholders}`` unfilled); ``[[level]]`` is filled
    in when ``level`` is given.

    >>> texts("report.col_", "en", level=0.9)["ci"]
    '90% CI'
    >>> list(texts("report.method_text", "sv"))
    ['1', '2', '3', '4', '5']
    """
    _check_lang(lang)
    out = {k[len(prefix):].lstrip("."): v[lang]
           for k, v in sorted(TEXTS.items()) if k.startswith(prefix)}
    if not out:
        raise KeyError(f"no texts with keys starting {prefix!r}.")
    return with_level(out, level, lang) if level is not None else out


def level_label(level: float, lang: str) -> str:
    """A confidence level as people write it: ``0.95`` -> ``"95 %"`` (sv) or ``"95%"`` (en).

    >>> level_label(0.95, "sv"), level_label(0.9, "en"), level_label(0.975, "sv")
    ('95 %', '90%', '97,5 %')
    """
    pct = round(100 * float(level), 1)
    label = f"{pct:.0f}" if pct == int(pct) else f"{pct:.1f}"
    return f"{label.replace('.', ',')} %" if lang == "sv" else f"{label}%"


def with_level(texts: Mapping[str, Any], level: float, lang: str) -> dict[str, Any]:
    """A copy of a text table with :data:`LEVEL` filled in (strings and lists of strings)."""
    label = level_label(level, lang)

    def fill(v: Any) -> Any:
        if isinstance(v, str):
            return v.replace(LEVEL, label)
        if isinstance(v, list):
            return [fill(x) for x in v]
        return v

    return {k: fill(v) for k, v in texts.items()}


# --------------------------------------------------------------------------- numbers
def _finite(x: Any) -> float | None:
    """``x`` as a float, or None when it is missing (None, NA, NaN) or infinite."""
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None  # pd.NA and other missing markers
    return v if math.isfinite(v) else None


def fmt_number(x: Any, decimals: int = 0, lang: str = "sv", signed: bool = False) -> str:
    r"""A number as a reader writes it; an en dash when missing.

    Swedish: thousands separated by a non-breaking space, decimal comma. English: commas and
    a point. A negative number gets a minus sign (U+2212); ``signed`` adds ``+`` to a positive
    one. A number that rounds to zero has no sign.

    >>> fmt_number(1234567.5, 1), fmt_number(1234567.5, 1, "en")
    ('1\xa0234\xa0567,5', '1,234,567.5')
    >>> fmt_number(-0.06, 1), fmt_number(0.04, 1, signed=True), fmt_number(3, signed=True)
    ('\u22120,1', '0,0', '+3')
    """
    v = _finite(x)
    if v is None:
        return MISSING
    s = f"{abs(v):,.{decimals}f}"
    zero = not any(c in "123456789" for c in s)
    if lang == "sv":
        s = s.replace(",", _NBSP).replace(".", ",")
    if zero:
        return s
    if v < 0:
        return _MINUS + s
    return "+" + s if signed else s


def fmt_sek(v: Any, lang: str = "sv") -> str:
    r"""Money in kronor: ``1 250 000 kr`` (sv) or ``SEK 1,250,000`` (en); an en dash when missing.

    Whole kronor; the spaces are non-breaking (U+00A0), so a sum never wraps.

    >>> fmt_sek(1250000), fmt_sek(1250000, "en"), fmt_sek(-999.6), fmt_sek(None)
    ('1\xa0250\xa0000\xa0kr', 'SEK\xa01,250,000', '\u22121\xa0000\xa0kr', '–')
    """
    s = fmt_number(v, 0, lang)
    if s == MISSING:
        return s
    return f"{s}{_NBSP}kr" if lang == "sv" else f"SEK{_NBSP}{s}"


def fmt_pp(v: Any, lang: str = "sv", signed: bool = True, decimals: int = 1) -> str:
    """A proportion as percentage points (``0.03`` is 3 points), one decimal by default.

    ``signed`` puts ``+`` before a positive change; a negative one always has its minus sign
    (pass ``abs(v)`` for a size without a sign).

    >>> fmt_pp(-0.0712), fmt_pp(0.03, "en"), fmt_pp(0.035, signed=False), fmt_pp(-0.0001)
    ('\u22127,1', '+3.0', '3,5', '0,0')
    """
    x = _finite(v)
    return MISSING if x is None else fmt_number(100.0 * x, decimals, lang, signed=signed)


def fmt_percent(v: Any, lang: str = "sv", decimals: int = 0) -> str:
    """A proportion as a percentage: ``0.25`` -> ``"25 %"`` (sv) or ``"25%"`` (en).

    >>> fmt_percent(0.25), fmt_percent(0.255, "en", 1), fmt_percent(None)
    ('25 %', '25.5%', '–')
    """
    x = _finite(v)
    if x is None:
        return MISSING
    s = fmt_number(100.0 * x, decimals, lang)
    return f"{s} %" if lang == "sv" else f"{s}%"


def fmt_p(p: Any, lang: str = "sv") -> str:
    """A p-value with three decimals, ``<0,001`` below 0.001; an en dash when missing.

    >>> fmt_p(0.0123), fmt_p(0.0004, "en"), fmt_p(float("nan"))
    ('0,012', '<0.001', '–')
    """
    x = _finite(p)
    if x is None:
        return MISSING
    s = "<0.001" if x < 0.001 else f"{x:.3f}"
    return s.replace(".", ",") if lang == "sv" else s
