<?php
// PHPUnit bootstrap: the client's autoloader and the tests' helpers.
declare(strict_types=1);

require __DIR__ . '/../src/autoload.php';
require __DIR__ . '/Support.php';
