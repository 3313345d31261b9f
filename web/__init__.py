"""The hall's web app: the manager's tablet, reports and the resident's status page."""
