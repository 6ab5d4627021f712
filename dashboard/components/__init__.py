"""Streamlit custom components written for this dashboard: plain HTML, CSS and JavaScript served by the dashboard
itself (no CDN, no npm build, no other host)."""
