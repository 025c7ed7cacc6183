"""The headless runner: shipped workflows on photos, through ComfyUI's real executor, in this process or on
ComfyUI servers; the command is ``scripts/run_workflow.py`` (:func:`runner.cli.main`).

Modules, in the order a run uses them: :mod:`.intake` (decode a photo as LoadImage does), :mod:`.workflow`
(read and check a workflow file), :mod:`.workflow_format` (UI workflow -> API prompt), :mod:`.graphs` (the
shipped workflows' builders), :mod:`.prompts` and :mod:`.demo` (the prompt each photo runs), :mod:`.host`
(ComfyUI booted in-process), :mod:`.local` (one photo in-process), :mod:`.client` (a ComfyUI server),
:mod:`.batch` (many photos, resume, servers), :mod:`.report`, :mod:`.cli`. The runner imports the pack
(``repaint_extend``); the pack never imports the runner.
"""
