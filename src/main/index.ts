// Electron entry: replaced by the shell issue. Kept minimal so the build has a main entry.
import { app } from 'electron'

app.whenReady().then(() => app.quit())
