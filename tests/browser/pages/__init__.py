"""One page object per screen of the mobile app; elements are found by role, label and
visible text, as a person finds them. Every page object can save a screenshot of its
screen (``shot``) under tests/browser/screenshots/."""
