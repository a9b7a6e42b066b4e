# The digit reader, served by Streamlit on port 8501.
#
#   docker build -t digit-reader .
#   docker run --rm -p 8501:8501 digit-reader        # then open http://localhost:8501

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=2

RUN useradd --create-home --uid 10001 app
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

# The app directory belongs to the app user: the local feedback database is written there.
COPY --chown=app:app . .
USER app

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/api/ready', timeout=3)"]

CMD ["streamlit", "run", "webapp.py", "--server.port=8501", "--server.address=0.0.0.0", "--server.headless=true"]
