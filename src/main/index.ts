// Electron main entry (out/main/index.js). The shell lives in src/main/electron.
import { main } from './electron/app'

main()
