# PyInstaller runtime hook (Linux): what PyInstaller's pyi_rth_pyside6 does for this app, without
# importing PySide6.QtCore at start-up (it loads Qt and ICU, ~85 ms, for every CLI command). The
# PyPI PySide6 wheel embeds its own qt.conf when QtCore is first imported, so only the plugin
# path is needed here.
import os
import sys

os.environ["QT_PLUGIN_PATH"] = os.path.join(sys._MEIPASS, "PySide6", "Qt", "plugins")
