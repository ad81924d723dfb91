<?php
// Autoloader for the camd client without Composer: require this file.
declare(strict_types=1);

spl_autoload_register(static function (string $class): void {
    if (strncmp($class, 'Camd\\', 5) !== 0) {
        return;
    }
    $file = __DIR__ . '/' . str_replace('\\', '/', substr($class, 5)) . '.php';
    if (is_file($file)) {
        require $file;
    }
});
