"""The operator console (docs/api.md §8): web pages at /console for the people who run fleets and
partner back offices. ``operators`` is who may sign in and how; ``router`` the pages, which call the
API's services (``fleet.service``, ``partner.service``) so that the rules, errors and events are the API's."""
