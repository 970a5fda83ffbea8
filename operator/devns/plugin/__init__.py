"""`kubectl devns`: the kubectl plugin that onboards developers and lets them manage their DevNamespaces.

The console script ``kubectl-devns`` (``app.main``) is found by kubectl's plugin discovery, and runs on its own.
One module per concern: ``app`` (the command group, global flags, exit codes), ``session`` (kubeconfig, context
and the API client), ``output`` (``-o`` formats, tables, countdowns, errors), then one module per command family.
The plugin talks to the API server only through the official client; it imports the operator's pure modules
(contract, models, units) and never its reconcile machinery.
"""
