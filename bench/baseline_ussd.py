"""The baseline: a USSD app written the way providers' tutorials write one.

One Flask view, an if/elif on the accumulated `text`, answers kept in a Redis hash. It asks
the same number of screens as Kuma's maternal_care survey so that both serve the same load.
Used by bench/ussd.py only.
"""

import os

import redis
from flask import Flask, request

app = Flask(__name__)
r = redis.Redis.from_url(os.environ.get("BASELINE_REDIS_URL", "redis://127.0.0.1:6379/13"))

QUESTIONS = [
    "Pendant la visite, vous a-t-on crié dessus, insultée ou humiliée ?\n1. Oui\n2. Non",
    "Le personnel a-t-il écouté vos questions et expliqué vos soins ?\n1. Oui, bien\n2. Un peu"
    "\n3. Non",
    "Combien de temps avez-vous attendu avant d'être reçue ?\n1. Moins de 30 min\n"
    "2. 30 min à 1 h\n3. 1 h à 2 h\n4. Plus de 2 h",
    "Avez-vous été examinée sans que d'autres personnes puissent voir ou entendre ?\n1. Oui\n"
    "2. En partie\n3. Non",
    "Comment étaient la salle de soins et les toilettes ?\n1. Propres\n2. Assez propres\n"
    "3. Sales",
    "Avant de payer, vous a-t-on dit le prix des soins et des médicaments ?\n1. Oui\n2. Non",
    "Vous a-t-on demandé de l'argent en plus des frais officiels ou sans reçu ?\n1. Oui\n2. Non",
    "Conseilleriez-vous ce centre à une amie enceinte ?\n1. Oui, sûrement\n2. Peut-être\n3. Non",
    "Un commentaire pour aider le centre à s'améliorer ?\n0. Passer",
]


@app.route("/ussd", methods=["POST"])
def ussd():
    session_id = request.values.get("sessionId", None)
    phone_number = request.values.get("phoneNumber", None)
    text = request.values.get("text", "default")
    parts = text.split("*") if text else []

    if text == "":
        response = "CON Choisissez votre langue\n1. Français\n2. Bamanankan"
    elif len(parts) == 1:
        response = "CON CSCom : donnez votre avis sur votre visite. C'est gratuit et anonyme " \
                   "(3 min). Acceptez-vous ?\n1. Oui\n2. Non"
    elif len(parts) == 2:
        if parts[1] == "2":
            response = "END Merci. Bonne journée."
        else:
            response = "CON Pour quelle visite êtes-vous venue ?\n1. Consultation prénatale\n" \
                       "2. Accouchement\n3. Suivi après l'accouchement\n4. Soins de l'enfant"
    elif len(parts) - 3 < len(QUESTIONS):
        response = "CON " + QUESTIONS[len(parts) - 3]
    else:
        response = "END Merci ! Vos réponses aident le centre à mieux soigner les mères."
    if parts:
        r.hset(f"answers:{session_id}", mapping={"phone": phone_number, str(len(parts)): parts[-1]})
        r.expire(f"answers:{session_id}", 3600)
    return response, 200, {"Content-Type": "text/plain"}
